// SPDX-License-Identifier: GPL-2.0
/* Marking order within one object: the first program's field relocation marks member
 * bpfc_tagged.q (a PTR to struct bpfc_inner) without following the pointer; the second
 * program's TYPE_EXISTS on bpfc_sptr (a typedef of that same PTR in the synthetic "tags"
 * kernel) follows pointers, so struct bpfc_inner must be emitted as bpftool does. */
#include "tags.h"

/* Makes clang emit struct bpfc_inner in full (not as a FWD), so that bpfc_sptr matches. */
struct bpfc_inner bpfc_inner_definition;

SEC("tp/syscalls/sys_enter_getpid")
int tags_ptr_field(void *ctx)
{
	struct bpfc_tagged *t = ctx;

	sink = (long)BPF_CORE_READ(t, q);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int tags_ptr_type(void *ctx)
{
	sink = bpf_core_type_exists(bpfc_sptr);
	return 0;
}
