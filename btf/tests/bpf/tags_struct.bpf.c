// SPDX-License-Identifier: GPL-2.0
/* TYPE_EXISTS of a struct with TYPE_TAG / FWD pointer members (members are not marked). */
#include "tags.h"

SEC("tp/syscalls/sys_enter_getpid")
int tags_struct(void *ctx)
{
	sink = bpf_core_type_exists(struct bpfc_tagged);
	return 0;
}
