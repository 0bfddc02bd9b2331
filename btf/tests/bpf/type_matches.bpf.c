// SPDX-License-Identifier: GPL-2.0
/* Test-only object for TYPE_MATCHES (kind 12). clang 14 cannot emit
 * bpf_core_type_matches(), so every bpf_core_type_exists() relocation in this object is
 * rewritten from TYPE_EXISTS (8) to TYPE_MATCHES (12) in .BTF.ext after compilation
 * (see tests/common/objects.rs); the instruction immediates (1) stay valid for both kinds. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

/* Local flavour that matches kernels whose list_head is {next, prev}. */
struct list_head___local {
	struct list_head___local *next;
	struct list_head___local *prev;
};

/* Local flavour with a member the kernel does not have: never matches. */
struct rlimit___extra {
	__u64 rlim_cur;
	__u64 rlim_max;
	__u64 rlim_extra;
};

SEC("tp/syscalls/sys_enter_getpid")
int type_matches(void *ctx)
{
	sink = bpf_core_type_exists(struct list_head___local);
	sink += bpf_core_type_exists(struct rlimit);
	sink += bpf_core_type_exists(struct rlimit___extra);
	sink += bpf_core_type_exists(struct upid);
	sink += bpf_core_type_exists(struct callback_head);
	sink += bpf_core_type_exists(enum pid_type);
	return 0;
}
