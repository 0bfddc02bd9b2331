/* SPDX-License-Identifier: GPL-2.0 */
/* Local types of the tags_*.bpf.c test objects, run against the synthetic "tags" kernel
 * (tests/common/synthetic.rs): there `bpfc_uptr` is a typedef of a pointer to a TYPE_TAG,
 * `bpfc_fwdptr` a typedef of a pointer to a FWD, and `struct bpfc_tagged` has members of
 * both pointer types. btfgen's type marking follows pointers for type relocations and does
 * not know TYPE_TAG/FWD there, so bpftool refuses some of these objects; btf must agree.
 * One relocation kind per object, so each gets its own verdict. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

struct bpfc_opaque;
typedef int *bpfc_uptr;
typedef struct bpfc_opaque *bpfc_fwdptr;
struct bpfc_inner {
	int a;
};
typedef struct bpfc_inner *bpfc_sptr;

struct bpfc_tagged {
	int *p;
	struct bpfc_opaque *o;
	int v;
	struct bpfc_inner *q;
} __attribute__((preserve_access_index));
