// Test program for the launcher's integration test: on every exec it sends
// one event through a ring buffer and one through a perf event array. The pid
// is read with CO-RE (task_struct->tgid), so loading needs the kernel's BTF.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

enum source { SRC_RING = 1, SRC_PERF = 2 };

struct event {
	int pid;
	char comm[16];
	enum source src;
	unsigned int flag : 1;
	unsigned int level : 3;
	bool is_exec;
	unsigned long long ts;
};

/* Keeps struct event in the object's BTF (as ecc-built tools do). */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} pb SEC(".maps");

static __always_inline void fill(struct event *e, enum source src)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	e->pid = BPF_CORE_READ(task, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->src = src;
	e->flag = 1;
	e->level = 5;
	e->is_exec = true;
	e->ts = bpf_ktime_get_ns();
}

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	struct event pe = {};

	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		fill(e, SRC_RING);
		bpf_ringbuf_submit(e, 0);
	}
	fill(&pe, SRC_PERF);
	bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &pe, sizeof(pe));
	return 0;
}
