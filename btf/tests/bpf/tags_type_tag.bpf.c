// SPDX-License-Identifier: GPL-2.0
/* TYPE_SIZE of a typedef whose kernel type is a pointer to a TYPE_TAG. */
#include "tags.h"

SEC("tp/syscalls/sys_enter_getpid")
int tags_type_tag(void *ctx)
{
	sink = bpf_core_type_size(bpfc_uptr);
	return 0;
}
