// Test program of tests/tests/ecli_types.rs: every kind of global is an
// option, and every kind of member is in the event it sends for each
// write(2) of `target_pid`. Needs no kernel BTF (no CO-RE).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = -1, GREEN = 1, BLUE = 300 };

struct point { short x; short y; };

struct event {
	signed char a;
	unsigned char b;
	short c;
	unsigned short d;
	int e;
	unsigned int f;
	long long g;
	unsigned long long h;
	_Bool i;
	char s[8];
	enum color col;
	int data_val;
	unsigned int lo : 3, hi : 5;
	union { int as_int; unsigned char bytes[4]; } u;
	struct point pt;
	unsigned short arr[3];
	void *ptr;
};

const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

const volatile int target_pid = 0;
const volatile signed char v_s8 = -1;
const volatile unsigned char v_u8 = 1;
const volatile short v_s16 = -2;
const volatile unsigned short v_u16 = 2;
const volatile int v_s32 = -3;
const volatile unsigned int v_u32 = 3;
const volatile long long v_s64 = -4;
const volatile unsigned long long v_u64 = 4;
const volatile _Bool v_flag = 0;
const volatile char v_str[8] = "abc";
const volatile enum color v_color = GREEN;
volatile int v_data = 11;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(void *ctx)
{
	struct event *e;

	if ((bpf_get_current_pid_tgid() >> 32) != (unsigned int)target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->a = v_s8; e->b = v_u8; e->c = v_s16; e->d = v_u16;
	e->e = v_s32; e->f = v_u32; e->g = v_s64; e->h = v_u64;
	e->i = v_flag;
	for (int k = 0; k < (int)sizeof(e->s); k++)
		e->s[k] = v_str[k];
	e->col = v_color;
	e->data_val = v_data;
	e->lo = 5; e->hi = 17;
	e->u.as_int = 0x04030201;
	e->pt.x = -7; e->pt.y = 8;
	e->arr[0] = 1; e->arr[1] = 2; e->arr[2] = 65535;
	e->ptr = (void *)0xffff888012345678ULL;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
