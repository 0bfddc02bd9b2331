// SPDX-License-Identifier: GPL-2.0
/* TYPE_EXISTS of a typedef whose kernel type is a pointer to a FWD. */
#include "tags.h"

SEC("tp/syscalls/sys_enter_getpid")
int tags_fwd(void *ctx)
{
	sink = bpf_core_type_exists(bpfc_fwdptr);
	return 0;
}
