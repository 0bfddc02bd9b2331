// SPDX-License-Identifier: GPL-2.0
/* Test-only object: TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE, ENUMVAL_EXISTS,
 * ENUMVAL_VALUE (incl. an enum that is ENUM64 in recent kernels), and type relocations on a
 * type that no kernel has (no candidate: nothing may be marked). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

/* A type no kernel has. */
struct bpfc_missing_type {
	int nothing_here;
};

typedef struct task_struct bpfc_task_alias;

SEC("tp/syscalls/sys_enter_getpid")
int type_relos(void *ctx)
{
	sink = bpf_core_type_id_local(struct task_struct);
	/* Unique in every sample kernel; task_struct is not: see type_id_duplicates.bpf.c. */
	sink += bpf_core_type_id_kernel(union bpf_attr);
	sink += bpf_core_type_exists(struct sk_buff);
	sink += bpf_core_type_exists(union bpf_attr);
	sink += bpf_core_type_exists(struct bpfc_missing_type);
	sink += bpf_core_type_exists(u64);
	sink += bpf_core_type_size(struct sock);
	sink += bpf_core_type_size(struct bpfc_missing_type);
	sink += bpf_core_type_size(bpfc_task_alias);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int enum_relos(void *ctx)
{
	sink = bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ringbuf_output);
	sink += bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_probe_read_kernel);
	sink += bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_USER);
	sink += bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	sink += bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	return 0;
}
