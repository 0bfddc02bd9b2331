// SPDX-License-Identifier: GPL-2.0
/*
 * exitsnoop: one event per process exit (thread-group leader only).
 *
 * Hook:    tracepoint sched/sched_process_exit
 * Output:  BPF_MAP_TYPE_PERF_EVENT_ARRAY "events" via bpf_perf_event_output,
 *          so it also shows the perf-buffer path of the launcher.
 * CO-RE:   task->tgid, task->real_parent->tgid and task->exit_code are read
 *          with field relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16

struct event {
	int pid;
	int ppid;
	int exit_code; /* exit status, as for WEXITSTATUS() */
	int sig;       /* terminating signal, 0 after a normal exit */
	char comm[TASK_COMM_LEN];
};

/* Keeps `struct event` in the object's BTF (the packer exports it). */
const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 id = bpf_get_current_pid_tgid();
	struct event e = {};
	int code;

	/* Threads other than the leader exit too; report the process once. */
	if ((u32)(id >> 32) != (u32)id)
		return 0;

	e.pid = BPF_CORE_READ(task, tgid);
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	code = BPF_CORE_READ(task, exit_code);
	e.exit_code = (code >> 8) & 0xff;
	e.sig = code & 0x7f;
	bpf_get_current_comm(&e.comm, sizeof(e.comm));

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

/// @brief Trace process exits: pid, parent, exit status and signal (perf buffer)
/// @version 0.1.0
char LICENSE[] SEC("license") = "GPL";
