// SPDX-License-Identifier: GPL-2.0
/*
 * writesize: a log2 histogram of the sizes passed to write(2).
 *
 * Hook:    tracepoint syscalls/sys_enter_write
 * Output:  BPF_MAP_TYPE_ARRAY "hists" (one `struct hist` with log2 `slots`),
 *          printed as a histogram; with --emit-events also one `struct event`
 *          per counted write through the ring buffer "events".
 * Options: every `const volatile` global below is a command-line option of
 *          the packed tool (`./writesize --target-pid 42 --min-bytes 512`);
 *          the `///` comments are the options' help texts.
 * CO-RE:   the tracepoint arguments are read with field relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS 32
#define TASK_COMM_LEN 16

/// The unit sizes are counted in
enum size_unit {
	UNIT_BYTES = 0,
	UNIT_KIB = 1,
};

struct hist {
	__u32 slots[MAX_SLOTS];
	__u64 total;
	__u32 calls;
};

struct event {
	__u32 pid;
	int fd;
	__u64 size;
	char comm[TASK_COMM_LEN];
	enum size_unit unit;
	bool stdio;
};

/* Keeps `struct event` in the object's BTF (the packer exports it). */
const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

/// Only count writes of this process (0 = every process)
const volatile pid_t target_pid = 0;
/// Only count writes of at least this many bytes
const volatile __u64 min_bytes = 0;
/// Only count writes of processes with this command name (empty = any)
const volatile char target_comm[TASK_COMM_LEN] = "";
/// Count sizes in bytes or KiB
const volatile enum size_unit unit = UNIT_BYTES;
/// Skip writes to file descriptors 0, 1 and 2
const volatile bool skip_stdio = true;
/// Also print every counted write as an event
const volatile bool emit_events = false;

/// Writes counted so far (all processes that passed the filters)
__u64 counted = 0;

/// @sample {"interval": 1000, "type": "log2_hist", "unit": "bytes"}
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	/* floor(log2(v)), 0 for 0 and 1: bcc's log2l */
	if (v >= (1ULL << 32)) { v >>= 32; slot += 32; }
	if (v >= (1ULL << 16)) { v >>= 16; slot += 16; }
	if (v >= (1ULL << 8)) { v >>= 8; slot += 8; }
	if (v >= (1ULL << 4)) { v >>= 4; slot += 4; }
	if (v >= (1ULL << 2)) { v >>= 2; slot += 2; }
	if (v >= (1ULL << 1)) { slot += 1; }
	return slot;
}

static __always_inline bool comm_matches(const char *comm)
{
	if (target_comm[0] == '\0')
		return true;
#pragma unroll
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (comm[i] == '\0')
			return true;
	}
	return true;
}

SEC("tp/syscalls/sys_enter_write")
int handle_write(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	int fd = (int)BPF_CORE_READ(ctx, args[0]);
	__u64 size = BPF_CORE_READ(ctx, args[2]);
	char comm[TASK_COMM_LEN] = {};
	__u32 zero = 0;
	struct hist *h;
	__u32 slot;

	if (target_pid && pid != (__u32)target_pid)
		return 0;
	if (size < min_bytes)
		return 0;
	if (skip_stdio && fd >= 0 && fd <= 2)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	if (!comm_matches(comm))
		return 0;

	if (unit == UNIT_KIB)
		size /= 1024;
	h = bpf_map_lookup_elem(&hists, &zero);
	if (!h)
		return 0;
	slot = log2_slot(size);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->total, size);
	__sync_fetch_and_add(&h->calls, 1);
	__sync_fetch_and_add(&counted, 1);

	if (emit_events) {
		struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (!e)
			return 0;
		e->pid = pid;
		e->fd = fd;
		e->size = size;
		__builtin_memcpy(e->comm, comm, sizeof(e->comm));
		e->unit = unit;
		e->stdio = fd >= 0 && fd <= 2;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

/// @brief Log2 histogram of write(2) sizes, filtered by pid, command name and size
/// @version 0.1.0
char LICENSE[] SEC("license") = "GPL";
