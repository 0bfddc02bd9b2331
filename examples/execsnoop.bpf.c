// SPDX-License-Identifier: GPL-2.0
/*
 * execsnoop: one event per successful execve(2).
 *
 * Hook:    tracepoint sched/sched_process_exec
 * Output:  BPF_MAP_TYPE_RINGBUF "events", one `struct event` per exec
 * Filter:  `target_ppid` (.rodata): 0 = every exec, else only the children
 *          of that process.
 * CO-RE:   the tracepoint context (data_loc of the file name) and
 *          task->real_parent->tgid are read with field relocations, so the
 *          object needs kernel BTF (native or embedded by `packer`).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 128

struct event {
	int pid;
	int ppid;
	unsigned int uid;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
};

/* Keeps `struct event` in the object's BTF (the packer exports it). */
const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

/// Only report children of this process (0 = every exec)
const volatile int target_ppid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned int filename_off = BPF_CORE_READ(ctx, __data_loc_filename) & 0xFFFF;
	int ppid = BPF_CORE_READ(task, real_parent, tgid);
	struct event *e;

	if (target_ppid && target_ppid != ppid)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	e->uid = (unsigned int)bpf_get_current_uid_gid();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename),
				  (void *)ctx + filename_off);

	bpf_ringbuf_submit(e, 0);
	return 0;
}

/// @brief Trace exec(): pid, parent, uid, command and file name of every new program
/// @version 0.1.0
char LICENSE[] SEC("license") = "GPL";
