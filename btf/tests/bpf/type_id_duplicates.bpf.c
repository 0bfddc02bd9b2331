// SPDX-License-Identifier: GPL-2.0
/* Test-only object: TYPE_ID_TARGET of struct task_struct. Kernels whose BTF has two
 * `struct task_struct` (centos 8, debian 10 4.19, ubuntu 20.04 5.4 in the sample archive)
 * give two candidates with different ids: libbpf/bpftool refuse that ("relocation decision
 * ambiguity"), so btf::minimize must refuse it on exactly those kernels. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

SEC("tp/syscalls/sys_enter_getpid")
int type_id_duplicates(void *ctx)
{
	sink = bpf_core_type_id_kernel(struct task_struct);
	return 0;
}
