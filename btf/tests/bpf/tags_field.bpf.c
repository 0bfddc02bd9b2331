// SPDX-License-Identifier: GPL-2.0
/* Field relocations through members whose types are pointers to TYPE_TAG / FWD. */
#include "tags.h"

SEC("tp/syscalls/sys_enter_getpid")
int tags_field(void *ctx)
{
	struct bpfc_tagged *t = ctx;

	sink = (long)BPF_CORE_READ(t, p);
	sink += (long)BPF_CORE_READ(t, o);
	sink += BPF_CORE_READ(t, v);
	return 0;
}
