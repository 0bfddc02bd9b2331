// SPDX-License-Identifier: GPL-2.0
/* Test-only object: every CO-RE *field* relocation kind against real kernel types.
 * FIELD_BYTE_OFFSET, FIELD_BYTE_SIZE, FIELD_EXISTS, FIELD_SIGNED, FIELD_LSHIFT_U64,
 * FIELD_RSHIFT_U64; bitfields, anonymous unions/structs, arrays of structs, char arrays,
 * pointer chains. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

long sink;

SEC("tp/syscalls/sys_enter_getpid")
int field_offsets(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	char c = 0;

	/* byte offsets through a pointer chain */
	sink = BPF_CORE_READ(t, real_parent, tgid);
	sink += BPF_CORE_READ(t, pid);
	/* array element inside a struct: access string 0:N:3 */
	bpf_core_read(&c, 1, &t->comm[3]);
	sink += c;
	/* array of structs: signal->rlim[7].rlim_cur */
	sink += BPF_CORE_READ(t, signal, rlim[7].rlim_cur);
	/* flexible array of structs: thread_pid->numbers[0].nr */
	sink += BPF_CORE_READ(t, thread_pid, numbers[0].nr);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int field_size_exists(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	sink = bpf_core_field_size(t->comm);
	sink += bpf_core_field_size(t->mm);
	sink += bpf_core_field_exists(t->in_iowait);
	sink += bpf_core_field_exists(t->sched_reset_on_fork);
	return 0;
}

SEC("tp/syscalls/sys_enter_gettid")
int bitfields(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct sock *sk = (void *)BPF_CORE_READ(t, files);

	/* byte offset + byte size + lshift + rshift + signed */
	sink = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	sink += BPF_CORE_READ_BITFIELD_PROBED(t, in_iowait);
	/* a bitfield on old kernels, a plain u16 on new ones */
	sink += BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	sink += __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int anonymous_members(struct pt_regs *ctx)
{
	struct sock *sk = (void *)PT_REGS_PARM1(ctx);
	struct sk_buff *skb = (void *)PT_REGS_PARM2(ctx);

	/* sock_common: skc_daddr lives in an anonymous struct inside an anonymous union */
	sink = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	sink += BPF_CORE_READ(sk, __sk_common.skc_family);
	/* sk_buff: next in anon union > anon struct; dev in anon union > anon struct > anon union */
	sink += (long)BPF_CORE_READ(skb, next);
	sink += (long)BPF_CORE_READ(skb, dev, ifindex);
	sink += BPF_CORE_READ(skb, len);
	sink += bpf_core_field_exists(skb->tstamp);
	return 0;
}
