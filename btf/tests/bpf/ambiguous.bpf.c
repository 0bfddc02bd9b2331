// SPDX-License-Identifier: GPL-2.0
/* Test-only object: reads bpfc_amb.b. The synthetic "ambiguous" kernel has two
 * struct bpfc_amb with b at different offsets; libbpf/bpftool refuse that
 * ("field offset ambiguity"), so btf::minimize must refuse it too. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

struct bpfc_amb {
	int a;
	int b;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getpid")
int ambiguous(void *ctx)
{
	struct bpfc_amb *p = ctx;

	sink = BPF_CORE_READ(p, b);
	return 0;
}
