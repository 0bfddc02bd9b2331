// SPDX-License-Identifier: GPL-2.0
/* tags_struct.bpf.c with its TYPE_EXISTS relocation rewritten to TYPE_MATCHES after
 * compilation (TYPE_MATCHES_OBJECTS in tests/common/objects.rs): marks members recursively. */
#include "tags_struct.bpf.c"
