// SPDX-License-Identifier: GPL-2.0
/* Test-only object run against the synthetic kernels built in tests/common/synthetic.rs
 * (real kernels have none of these types, so there they must produce no candidates):
 * - multi-dimensional arrays and arrays of structs (pahole never emits multi-dim arrays);
 * - anonymous union/struct nesting;
 * - bpfc_dup: two kernel candidates with the same member offsets (not ambiguous, the first wins);
 * - bpfc_amb: two kernel candidates with different member offsets (ambiguous: must be refused)
 *   -- only in the "ambiguous" program, which lives in its own object (ambiguous.bpf.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

struct bpfc_point {
	int x;
	int y;
} __attribute__((preserve_access_index));

struct bpfc_grid {
	int cells[3][4];
	struct bpfc_point pts[2];
	union {
		struct {
			short lo;
			short hi;
		};
		int word;
	};
	unsigned int flag : 3;
	int sflag : 5;
} __attribute__((preserve_access_index));

struct bpfc_dup {
	int a;
	long b;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getpid")
int synthetic(void *ctx)
{
	struct bpfc_grid *g = ctx;
	struct bpfc_dup *d = ctx;

	sink = BPF_CORE_READ(g, cells[2][1]);
	sink += BPF_CORE_READ(g, pts[1].y);
	sink += BPF_CORE_READ(g, hi);
	sink += BPF_CORE_READ_BITFIELD_PROBED(g, flag);
	sink += BPF_CORE_READ_BITFIELD_PROBED(g, sflag);
	sink += bpf_core_field_size(g->cells[1]);
	sink += BPF_CORE_READ(d, b);
	return 0;
}
