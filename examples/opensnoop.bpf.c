// SPDX-License-Identifier: GPL-2.0
/*
 * opensnoop: one event per openat(2) call, with its result.
 *
 * Hooks:   tracepoints syscalls/sys_enter_openat and syscalls/sys_exit_openat;
 *          the entry arguments wait in a hash map keyed by thread id.
 * Output:  BPF_MAP_TYPE_RINGBUF "events", one `struct event` per call
 * Filter:  `target_pid` (.rodata): 0 = every process, else only that one.
 * CO-RE:   the syscall tracepoint contexts (args[], ret) are read with field
 *          relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define NAME_MAX 255

struct event {
	int pid;
	unsigned int uid;
	int ret;
	int flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_MAX];
};

struct args {
	const char *fname;
	int flags;
};

/* Keeps `struct event` in the object's BTF (the packer exports it). */
const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

/// Only report opens of this process (0 = every process)
const volatile int target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tp/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32;
	u32 tid = (u32)id;
	struct args args = {};

	if (target_pid && target_pid != (int)pid)
		return 0;

	args.fname = (const char *)BPF_CORE_READ(ctx, args[1]);
	args.flags = (int)BPF_CORE_READ(ctx, args[2]);
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int handle_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct args *ap;
	struct event *e;

	ap = bpf_map_lookup_elem(&start, &tid);
	if (!ap)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->uid = (unsigned int)bpf_get_current_uid_gid();
		e->ret = (int)BPF_CORE_READ(ctx, ret);
		e->flags = ap->flags;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
		bpf_probe_read_user_str(&e->fname, sizeof(e->fname), ap->fname);
		bpf_ringbuf_submit(e, 0);
	}

	bpf_map_delete_elem(&start, &tid);
	return 0;
}

/// @brief Trace openat(): pid, uid, flags, result and file name of every open
/// @version 0.1.0
char LICENSE[] SEC("license") = "GPL";
