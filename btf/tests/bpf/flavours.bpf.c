// SPDX-License-Identifier: GPL-2.0
/* Test-only object: "___suffix" flavours with preserve_access_index (the task_struct
 * state -> __state rename), field relocations on a type no kernel has, and a flavour
 * whose member exists in no kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct task_struct___never {
	int bpfc_member_nobody_has;
} __attribute__((preserve_access_index));

struct bpfc_missing_struct {
	int a;
	int b;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getpid")
int flavours(void *ctx)
{
	void *t = (void *)bpf_get_current_task();
	struct bpfc_missing_struct *m = ctx;

	if (bpf_core_field_exists(((struct task_struct___new *)t)->__state))
		sink = BPF_CORE_READ((struct task_struct___new *)t, __state);
	else
		sink = BPF_CORE_READ((struct task_struct___old *)t, state);
	if (bpf_core_field_exists(((struct task_struct___never *)t)->bpfc_member_nobody_has))
		sink += BPF_CORE_READ((struct task_struct___never *)t, bpfc_member_nobody_has);
	sink += BPF_CORE_READ(m, b);
	sink += bpf_core_field_exists(m->a);
	return 0;
}
