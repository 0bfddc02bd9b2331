//! Malformed input: every parser of the btf crate must answer broken raw BTF, broken ELF
//! objects, broken `.BTF.ext` and broken kernel archives with an `Err` carrying a message —
//! never a panic, a hang or an allocation out of proportion to the input.
//!
//! Inputs are built with the raw-BTF writer of `common::btf_writer` or are mutations of real
//! files (the test-only objects, the example objects, the sample archive). Each call runs on its
//! own thread under a counting allocator and a generous watchdog (a liveness check for endless
//! loops, not a performance assertion).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;
use std::time::Duration;

use common::btf_ext;
use common::btf_writer::{assemble, kind, to_big_endian, BtfWriter, Header};
use common::{env, objects, synthetic};

// ---------------------------------------------------------------------------------------------
// Allocation accounting: the peak of live bytes allocated by the current thread.

struct CountingAllocator;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: every method forwards to the system allocator with the caller's arguments and only
// updates thread-local counters (const-initialised `Cell`s, which never allocate).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        note_alloc(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Liveness watchdog: far above any legitimate run on these inputs.
const WATCHDOG: Duration = Duration::from_secs(120);

/// Run `f` on a fresh thread; fail the test if it panics, never returns, or has more than
/// `32 MiB + 64 × input_len` live bytes at any time.
fn guarded<T: Send + 'static>(
    what: &str,
    input_len: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        LIVE.with(|l| l.set(0));
        PEAK.with(|p| p.set(0));
        let result = f();
        let peak = PEAK.with(Cell::get);
        let _ = tx.send((result, peak));
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok((result, peak)) => {
            let _ = handle.join();
            let limit = (32 << 20) + 64 * input_len;
            assert!(
                peak <= limit,
                "{what}: {peak} live bytes at peak for a {input_len}-byte input (limit {limit}): \
                 an allocation sized from an untrusted count?"
            );
            result
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let msg = match handle.join() {
                Err(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(non-string panic payload)".into()),
                Ok(()) => "(thread ended without a result)".into(),
            };
            panic!("{what}: PANICKED: {msg}")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no result after {WATCHDOG:?}: endless loop?")
        }
    }
}

/// `f` must return `Err` with a non-trivial message.
fn expect_err<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) {
    match result {
        Ok(_) => panic!("{what}: accepted, expected an error"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.trim().len() >= 10,
                "{what}: error message too terse: {msg:?}"
            );
            eprintln!("ok  {what}: {msg}");
        }
    }
}

fn parse_btf(what: &str, bytes: Vec<u8>) -> Result<btf::Btf, String> {
    let len = bytes.len();
    guarded(what, len, move || {
        btf::Btf::parse(&bytes).map_err(|e| e.to_string())
    })
}

fn expect_btf_err(what: &str, bytes: Vec<u8>) {
    expect_err(what, parse_btf(what, bytes));
}

// ---------------------------------------------------------------------------------------------
// Raw BTF: header and section bounds.

fn small_valid() -> BtfWriter {
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    let p = w.ptr(int);
    w.struct_("s", 16, &[("a", int, 0, 0), ("p", p, 64, 0)]);
    w
}

#[test]
fn valid_small_btf_parses_in_both_endiannesses() {
    let le = small_valid().finish();
    let parsed = parse_btf("valid little-endian", le.clone())
        .unwrap_or_else(|e| panic!("valid BTF rejected: {e}"));
    assert_eq!(parsed.type_count(), 4, "void + 3 types");
    let be = to_big_endian(&le).unwrap_or_else(|| panic!("cannot byte-swap the test BTF"));
    let parsed_be = parse_btf("valid big-endian", be)
        .unwrap_or_else(|e| panic!("big-endian BTF rejected: {e}"));
    assert_eq!(parsed_be.type_count(), 4);
    assert_eq!(parsed_be.c_type_name(3), parsed.c_type_name(3));
    assert!(
        parsed_be.to_bytes() == parsed.to_bytes(),
        "to_bytes differs between endiannesses"
    );
}

#[test]
fn truncated_and_garbage_btf_is_rejected() {
    let valid = small_valid().finish();
    for len in [0, 1, 2, 4, 23] {
        expect_btf_err(
            &format!("raw BTF truncated to {len} bytes"),
            valid[..len].to_vec(),
        );
    }
    for len in (24..valid.len()).step_by(3) {
        let what = format!("raw BTF truncated to {len} of {} bytes", valid.len());
        expect_btf_err(&what, valid[..len].to_vec());
    }
    expect_btf_err(
        "ASCII garbage",
        b"this is not BTF at all, just text".to_vec(),
    );
    let mut bad_magic = valid.clone();
    bad_magic[0] = 0x12;
    expect_btf_err("bad magic", bad_magic);
}

#[test]
fn inconsistent_headers_are_rejected() {
    let w = small_valid();
    let (types, strings) = (w.type_bytes().to_vec(), w.string_bytes().to_vec());
    let std = Header::standard(types.len(), strings.len());
    let cases: Vec<(&str, Header)> = vec![
        ("hdr_len < 24", Header { hdr_len: 16, ..std }),
        (
            "hdr_len past the end",
            Header {
                hdr_len: 4096,
                ..std
            },
        ),
        (
            "hdr_len = u32::MAX",
            Header {
                hdr_len: u32::MAX,
                ..std
            },
        ),
        (
            "type_len past the end",
            Header {
                type_len: std.type_len + 4096,
                str_off: std.str_off + 4096,
                ..std
            },
        ),
        (
            "str_len past the end",
            Header {
                str_len: std.str_len + 1,
                ..std
            },
        ),
        (
            "type_off + type_len overflows u32",
            Header {
                type_off: u32::MAX - 7,
                type_len: 16,
                ..std
            },
        ),
        (
            "str_off + str_len overflows u32",
            Header {
                str_off: u32::MAX - 3,
                str_len: 8,
                ..std
            },
        ),
        (
            "hdr_len + str_off overflows u32",
            Header {
                hdr_len: u32::MAX - 8,
                ..std
            },
        ),
        (
            "type section overlaps strings",
            Header {
                str_off: std.str_off - 8,
                str_len: std.str_len + 8,
                ..std
            },
        ),
        (
            "type_len not a multiple of 4",
            Header {
                type_len: std.type_len - 2,
                ..std
            },
        ),
        (
            "type_len cuts a record",
            Header {
                type_len: std.type_len - 4,
                str_off: std.str_off,
                ..std
            },
        ),
        ("no string section", Header { str_len: 0, ..std }),
    ];
    for (what, header) in cases {
        expect_btf_err(what, assemble(&header, &types, &strings));
    }
}

#[test]
fn bad_string_sections_are_rejected() {
    // String section that does not start with NUL.
    let mut w = small_valid();
    let mut strings = w.string_bytes().to_vec();
    strings[0] = b'x';
    let types = w.type_bytes().to_vec();
    expect_btf_err(
        "string section not starting with NUL",
        assemble(
            &Header::standard(types.len(), strings.len()),
            &types,
            &strings,
        ),
    );
    // Not NUL-terminated.
    let mut strings = w.string_bytes().to_vec();
    strings.extend_from_slice(b"tail");
    expect_btf_err(
        "string section not NUL-terminated",
        assemble(
            &Header::standard(types.len(), strings.len()),
            &types,
            &strings,
        ),
    );
    // A name offset past the end of the strings.
    let past = w.string_bytes().len() as u32 + 100;
    w.header(past, kind::STRUCT, 0, false, 4);
    expect_btf_err("name offset past the string section", w.finish());
    // A member name offset past the end.
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    let n = w.str("s");
    w.header(n, kind::STRUCT, 1, false, 4);
    w.u32(0x00ff_ffff).u32(int).u32(0);
    expect_btf_err("member name offset past the string section", w.finish());
}

// ---------------------------------------------------------------------------------------------
// Raw BTF: type records.

#[test]
fn out_of_range_type_ids_are_rejected() {
    type AddBroken = Box<dyn Fn(&mut BtfWriter, u32)>;
    let cases: Vec<(&str, AddBroken)> = vec![
        (
            "PTR to id 999",
            Box::new(|w, _| {
                w.ptr(999);
            }),
        ),
        (
            "TYPEDEF to id 0x7fffffff",
            Box::new(|w, _| {
                w.reference(kind::TYPEDEF, "t", 0x7fff_ffff);
            }),
        ),
        (
            "CONST to id u32::MAX",
            Box::new(|w, _| {
                w.reference(kind::CONST, "", u32::MAX);
            }),
        ),
        (
            "struct member of type 999",
            Box::new(|w, int| {
                w.struct_("s", 8, &[("a", int, 0, 0), ("b", 999, 32, 0)]);
            }),
        ),
        (
            "array element of type 999",
            Box::new(|w, int| {
                w.array(999, int, 4);
            }),
        ),
        (
            "array index of type 999",
            Box::new(|w, int| {
                w.array(int, 999, 4);
            }),
        ),
        (
            "func_proto parameter of type 999",
            Box::new(|w, int| {
                w.header(0, kind::FUNC_PROTO, 1, false, int);
                w.u32(0).u32(999);
            }),
        ),
        (
            "func_proto return type 999",
            Box::new(|w, _| {
                w.header(0, kind::FUNC_PROTO, 0, false, 999);
            }),
        ),
        (
            "datasec variable of type 999",
            Box::new(|w, _| {
                let n = w.str(".data");
                w.header(n, kind::DATASEC, 1, false, 8);
                w.u32(999).u32(0).u32(4);
            }),
        ),
    ];
    for (what, add) in cases {
        let mut w = BtfWriter::new();
        let int = w.int("int", 4, true);
        add(&mut w, int);
        expect_btf_err(what, w.finish());
    }
}

#[test]
fn cyclic_type_graphs_are_rejected() {
    // typedef T -> T
    let mut w = BtfWriter::new();
    let me = w.next_id();
    w.reference(kind::TYPEDEF, "loop_t", me);
    expect_btf_err("typedef pointing to itself", w.finish());

    // typedef A -> const -> volatile -> A
    let mut w = BtfWriter::new();
    let a = w.next_id();
    w.reference(kind::TYPEDEF, "a_t", a + 1);
    w.reference(kind::CONST, "", a + 2);
    w.reference(kind::VOLATILE, "", a);
    expect_btf_err("typedef/const/volatile cycle", w.finish());

    // struct s { struct s inner; } by value
    let mut w = BtfWriter::new();
    let s = w.next_id();
    w.struct_("s", 8, &[("inner", s, 0, 0)]);
    expect_btf_err("struct containing itself by value", w.finish());

    // struct a { struct b x; }; struct b { struct a y; };
    let mut w = BtfWriter::new();
    let a = w.next_id();
    w.struct_("a", 8, &[("x", a + 1, 0, 0)]);
    w.struct_("b", 8, &[("y", a, 0, 0)]);
    expect_btf_err("two structs containing each other by value", w.finish());

    // array whose element type is itself
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    let me = w.next_id();
    w.array(me, int, 2);
    expect_btf_err("array of itself", w.finish());

    // A pointer cycle is legal: struct node { struct node *next; }.
    let mut w = BtfWriter::new();
    let node = w.next_id();
    w.struct_("node", 8, &[("next", node + 1, 0, 0)]);
    w.ptr(node);
    let parsed = parse_btf("pointer cycle", w.finish())
        .unwrap_or_else(|e| panic!("legal pointer cycle rejected: {e}"));
    let name = guarded("c_type_name on a pointer cycle", 0, move || {
        parsed.c_type_name(2)
    });
    assert_eq!(name, "struct node *");
}

/// Fuzz regression (parse_raw_btf, timeout): FUNC_PROTO [3] whose parameters are itself (by
/// value), twice; `c_type_name` recursed 2^depth times. Found by `make -C fuzz`, artifact
/// timeout-9b84fe95a138511122c360a8df88f4313154e81f.
const FUZZ_FUNC_PROTO_SELF_PARAMS: &[u8] = &[
    0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00,
    0x64, 0x00, 0x00, 0x00, 0x6c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8f,
    0x10, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x04, 0x00, 0x00, 0x00,
    0x19, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0d, 0x04, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3b, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00,
    0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x00, 0x04, 0x32, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x6c, 0x69, 0x73, 0x74, 0x5f, 0x68, 0x65, 0x61, 0x64, 0x00, 0x63, 0x61, 0x6c, 0x6c, 0x62, 0x61,
    0x63, 0x6b, 0x5f, 0x68, 0x16, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x10, 0x00, 0x27, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xfa, 0xff, 0xfe, 0xff, 0x00, 0x23, 0x00, 0x45, 0x01, 0x00, 0x00, 0x06, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x2d,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00, 0x67, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x13, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00, 0x00, 0x69, 0x6c, 0x79, 0x00,
];

/// Parse, then name every type: must end (a rejection at parse time is fine too).
fn parse_and_name_all(what: &str, bytes: Vec<u8>) {
    let len = bytes.len();
    let named = guarded(what, len, move || match btf::Btf::parse(&bytes) {
        Err(e) => format!("rejected: {e}"),
        Ok(b) => {
            let names: Vec<String> = (0..b.type_count()).map(|id| b.c_type_name(id)).collect();
            format!("accepted; names: {names:?}")
        }
    });
    eprintln!(
        "ok  {what}: {}",
        named.chars().take(300).collect::<String>()
    );
}

#[test]
fn function_prototype_cycles_terminate() {
    parse_and_name_all(
        "fuzz regression: FUNC_PROTO with itself as parameters",
        FUZZ_FUNC_PROTO_SELF_PARAMS.to_vec(),
    );
    // FUNC_PROTO returning itself by value.
    let mut w = BtfWriter::new();
    let me = w.next_id();
    w.header(0, kind::FUNC_PROTO, 0, false, me);
    parse_and_name_all("FUNC_PROTO returning itself", w.finish());
    // Legal BTF: a prototype whose 8 parameters are pointers to itself (a function pointer
    // cycle with fan-out): naming it must not take 8^depth steps.
    let mut w = BtfWriter::new();
    let proto = w.next_id();
    let ptr = proto + 1;
    w.header(0, kind::FUNC_PROTO, 8, false, ptr);
    for _ in 0..8 {
        w.u32(0).u32(ptr);
    }
    w.ptr(proto);
    let name = w.str("fan_out_t");
    w.header(name, kind::TYPEDEF, 0, false, ptr);
    parse_and_name_all("function pointer cycle with fan-out 8", w.finish());
    // The same through structs: struct s { fn_t a, b, c, d; } with fn_t taking struct s *.
    let mut w = BtfWriter::new();
    let s = w.next_id();
    let (s_ptr, proto, fn_ptr) = (s + 1, s + 2, s + 3);
    w.struct_(
        "s",
        32,
        &[
            ("a", fn_ptr, 0, 0),
            ("b", fn_ptr, 64, 0),
            ("c", fn_ptr, 128, 0),
            ("d", fn_ptr, 192, 0),
        ],
    );
    w.ptr(s);
    w.header(0, kind::FUNC_PROTO, 4, false, s_ptr);
    for _ in 0..4 {
        w.u32(0).u32(fn_ptr);
    }
    w.ptr(proto);
    parse_and_name_all("struct/function-pointer cycle with fan-out 4", w.finish());
}

#[test]
fn huge_counts_are_rejected_without_huge_allocations() {
    for vlen in [0xffff, 0x00ff_ffff] {
        for k in [
            kind::STRUCT,
            kind::UNION,
            kind::ENUM,
            kind::ENUM64,
            kind::FUNC_PROTO,
            kind::DATASEC,
        ] {
            let mut w = BtfWriter::new();
            let int = w.int("int", 4, true);
            let n = w.str("big");
            w.header(
                n,
                k,
                vlen,
                false,
                if k == kind::FUNC_PROTO { int } else { 4 },
            );
            w.u32(0).u32(int).u32(0);
            expect_btf_err(
                &format!("kind {k} with vlen {vlen:#x} and one record present"),
                w.finish(),
            );
        }
    }
    // A type count implied by a huge (but in-bounds-claimed) type section.
    let w = small_valid();
    let types = w.type_bytes().to_vec();
    let strings = w.string_bytes().to_vec();
    let header = Header {
        type_len: 0x7fff_fff0,
        str_off: 0x7fff_fff0,
        ..Header::standard(types.len(), strings.len())
    };
    expect_btf_err(
        "type_len of 2 GiB in a tiny file",
        assemble(&header, &types, &strings),
    );
}

#[test]
fn unknown_kinds_and_bad_records_are_rejected() {
    for k in [0u32, 20, 31, 100, 127] {
        let mut w = BtfWriter::new();
        w.int("int", 4, true);
        let n = w.str("weird");
        w.header(n, k, 0, false, 4);
        expect_btf_err(&format!("unknown kind {k}"), w.finish());
    }
    // INT with more bits than its size.
    let mut w = BtfWriter::new();
    let n = w.str("int");
    w.header(n, kind::INT, 0, false, 4);
    w.u32(200);
    expect_btf_err("INT of 4 bytes with 200 bits", w.finish());
    // INT of size 0xffffffff.
    let mut w = BtfWriter::new();
    let n = w.str("int");
    w.header(n, kind::INT, 0, false, u32::MAX);
    w.u32(32);
    expect_btf_err("INT with size u32::MAX", w.finish());
}

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random mutations (a small stable-toolchain fuzzer; the real fuzzers
// are in fuzz/).

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Flip bytes, overwrite u32s with interesting values, truncate.
fn mutate(input: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut out = input.to_vec();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        if out.len() < 4 {
            break;
        }
        match rng.below(4) {
            0 => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(out.len() - 3);
                let v: u32 = [
                    0,
                    1,
                    0xff,
                    0xffff,
                    0x00ff_ffff,
                    0x7fff_ffff,
                    u32::MAX,
                    0x8000_0000,
                ][rng.below(8)];
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            2 => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            _ => {
                let keep = rng.below(out.len());
                out.truncate(keep);
            }
        }
    }
    out
}

#[test]
fn mutated_synthetic_kernels_never_panic() {
    let kernel = synthetic::rich();
    let objects: Vec<Vec<u8>> = objects::test_objects()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.label == "test/synthetic" || o.label == "test/fields")
        .map(|o| o.bytes)
        .collect();
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..1500 {
        let mutant = mutate(&kernel, &mut rng);
        let objs = objects.clone();
        let len = mutant.len();
        let what = format!("mutant #{i} of the synthetic kernel ({len} bytes)");
        let ok = guarded(&what, len, move || match btf::Btf::parse(&mutant) {
            Err(e) => {
                assert!(!e.to_string().trim().is_empty(), "empty error message");
                false
            }
            Ok(k) => {
                for id in 0..k.type_count() {
                    let _ = k.c_type_name(id);
                }
                let _ = btf::Btf::parse(&k.to_bytes());
                for o in &objs {
                    if let Ok(obj) = btf::BpfObject::parse(o) {
                        let _ = btf::minimize(&k, &[&obj]);
                    }
                }
                true
            }
        });
        if ok {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    eprintln!("synthetic kernel mutants: {accepted} accepted, {rejected} rejected, no panic");
}

#[test]
fn mutated_objects_never_panic() {
    let mut objects = objects::all_objects();
    objects.truncate(8);
    if objects.is_empty() {
        eprintln!("notice: no BPF objects (clang missing, no examples); skipped");
        return;
    }
    let kernel = btf::Btf::parse(&synthetic::rich())
        .unwrap_or_else(|e| panic!("synthetic kernel rejected: {e}"));
    let kernel = std::sync::Arc::new(kernel);
    let mut rng = XorShift(0xdead_beef_0bad_f00d);
    for o in &objects {
        // Concentrate mutations on .BTF and .BTF.ext, where the parsers live.
        let ranges: Vec<(usize, usize)> = [".BTF", ".BTF.ext"]
            .iter()
            .filter_map(|n| btf_ext::section_range(&o.bytes, n))
            .collect();
        for i in 0..300 {
            let mut mutant = o.bytes.clone();
            if let Some(&(start, end)) = ranges.get(i % ranges.len().max(1)) {
                let section = mutate(&o.bytes[start..end], &mut rng);
                let n = section.len().min(end - start);
                mutant[start..start + n].copy_from_slice(&section[..n]);
            } else {
                mutant = mutate(&o.bytes, &mut rng);
            }
            let k = kernel.clone();
            let len = mutant.len();
            guarded(&format!("mutant #{i} of {}", o.label), len, move || {
                if let Ok(obj) = btf::BpfObject::parse(&mutant) {
                    let _ = btf::minimize(&k, &[&obj]);
                }
                let _ = btf::Btf::from_elf(&mutant);
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Objects and .BTF.ext.

fn btf_ext_u32(elf: &[u8], at: usize) -> u32 {
    elf.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or_else(|| panic!("test object truncated at {at}"))
}

fn object_named(label: &str) -> Option<Vec<u8>> {
    objects::test_objects()?
        .into_iter()
        .find(|o| o.label == label)
        .map(|o| o.bytes)
}

/// `BpfObject::parse` must fail, or `minimize` with it must fail.
fn expect_object_refused(what: &str, elf: Vec<u8>) {
    let kernel = synthetic::rich();
    let len = elf.len();
    let result = guarded(what, len, move || -> Result<usize, String> {
        let obj = btf::BpfObject::parse(&elf).map_err(|e| format!("BpfObject::parse: {e}"))?;
        let k = btf::Btf::parse(&kernel).map_err(|e| format!("synthetic kernel: {e}"))?;
        btf::minimize(&k, &[&obj])
            .map(|b| b.len())
            .map_err(|e| format!("minimize: {e}"))
    });
    expect_err(what, result);
}

#[test]
fn non_bpf_elves_are_rejected() {
    expect_object_refused("empty object", Vec::new());
    expect_object_refused(
        "garbage object",
        vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0],
    );
    let exe = std::env::current_exe()
        .map(|p| env::read(&p))
        .unwrap_or_default();
    if !exe.is_empty() {
        // A host executable has no .BTF: parsing it as a BPF object must fail.
        let len = exe.len();
        let r = guarded("host executable as a BPF object", len, move || {
            btf::BpfObject::parse(&exe)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        expect_err("host executable as a BPF object", r);
    }
}

#[test]
fn objects_without_btf_ext_are_refused() {
    let Some(elf) = object_named("test/fields") else {
        return;
    };
    let mut mutant = elf.clone();
    // Rename the section: ".BTF.ext" -> ".BTF.exx" wherever the name appears.
    let needle = b".BTF.ext\0";
    let mut renamed = 0;
    let mut i = 0;
    while i + needle.len() <= mutant.len() {
        if &mutant[i..i + needle.len()] == needle {
            mutant[i + 7] = b'x';
            renamed += 1;
        }
        i += 1;
    }
    assert!(renamed > 0, "no .BTF.ext section name in the test object");
    assert!(btf_ext::section_range(&mutant, ".BTF.ext").is_none());
    expect_object_refused("object without .BTF.ext", mutant);
}

#[test]
fn bogus_btf_ext_is_refused() {
    let Some(elf) = object_named("test/fields") else {
        return;
    };
    let (ext, ext_end) =
        btf_ext::section_range(&elf, ".BTF.ext").unwrap_or_else(|| panic!("no .BTF.ext"));
    let core =
        btf_ext::core_subsection_offset(&elf).unwrap_or_else(|| panic!("no CO-RE subsection"));
    let first_relo = btf_ext::core_relos(&elf)
        .first()
        .map(|r| r.file_offset)
        .unwrap_or_else(|| panic!("no CO-RE record"));
    let ext_hdr_len = btf_ext_u32(&elf, ext + 4) as usize;
    let func_info = ext + ext_hdr_len + btf_ext_u32(&elf, ext + 8) as usize;
    let line_info = ext + ext_hdr_len + btf_ext_u32(&elf, ext + 16) as usize;

    let patch = |at: usize, v: u32| {
        let mut m = elf.clone();
        btf_ext::put_u32(&mut m, at, v);
        m
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("CO-RE record_size 0", patch(core, 0)),
        ("CO-RE record_size 3", patch(core, 3)),
        ("CO-RE record_size 12 (< 16)", patch(core, 12)),
        (
            "CO-RE record_size 18 (not a multiple of 4)",
            patch(core, 18),
        ),
        ("CO-RE record_size u32::MAX", patch(core, u32::MAX)),
        (
            "CO-RE record_size 4096 (records past the end)",
            patch(core, 4096),
        ),
        ("func_info record_size 0", patch(func_info, 0)),
        ("func_info record_size u32::MAX", patch(func_info, u32::MAX)),
        ("line_info record_size 0", patch(line_info, 0)),
        ("line_info record_size 13", patch(line_info, 13)),
        ("CO-RE num_info 0x7fffffff", patch(core + 8, 0x7fff_ffff)),
        (
            "CO-RE core_relo_off past the section",
            patch(ext + 24, 0x0100_0000),
        ),
        (
            "CO-RE core_relo_len past the section",
            patch(ext + 28, 0x7fff_fff0),
        ),
        (
            ".BTF.ext hdr_len past the section",
            patch(ext + 4, (ext_end - ext + 64) as u32),
        ),
        (".BTF.ext hdr_len u32::MAX", patch(ext + 4, u32::MAX)),
        (".BTF.ext bad magic", patch(ext, 0x1234_5678)),
        (
            "relocation with local type id 999999",
            patch(first_relo + 4, 999_999),
        ),
        (
            "relocation with access string offset past the strings",
            patch(first_relo + 8, 0x00ff_fff0),
        ),
        ("relocation kind 13", patch(first_relo + 12, 13)),
        ("relocation kind u32::MAX", patch(first_relo + 12, u32::MAX)),
    ];
    let accepted: Vec<&str> = cases
        .into_iter()
        .filter_map(|(what, mutant)| {
            std::panic::catch_unwind(|| expect_object_refused(what, mutant))
                .err()
                .map(|_| what)
        })
        .collect();
    assert!(
        accepted.is_empty(),
        "bpftool refuses these .BTF.ext mutants, btf accepted them: {accepted:?}"
    );
}

#[test]
fn bad_access_strings_are_refused() {
    // test/flavours: every relocation's root is a local struct with one or two members.
    let Some(elf) = object_named("test/flavours") else {
        return;
    };
    let (btf_start, btf_end) =
        btf_ext::section_range(&elf, ".BTF").unwrap_or_else(|| panic!("no .BTF"));
    let btf = &elf[btf_start..btf_end];
    let hdr_len = u32::from_le_bytes(btf[4..8].try_into().unwrap_or_default()) as usize;
    let str_off = u32::from_le_bytes(btf[16..20].try_into().unwrap_or_default()) as usize;
    let strings_at = btf_start + hdr_len + str_off;
    let strings = &elf[strings_at..btf_end];
    let section_name = b"tp/syscalls/sys_enter_getpid\0";
    let name_at = strings
        .windows(section_name.len())
        .position(|w| w == section_name)
        .unwrap_or_else(|| panic!("no section-name string in the test object"));
    let first = btf_ext::core_relos(&elf)
        .first()
        .map(|r| r.file_offset)
        .unwrap_or_else(|| panic!("no CO-RE record"));
    for (what, off) in [
        (
            "access string that is not a list of numbers",
            name_at as u32,
        ),
        ("empty access string", 0),
    ] {
        let mut m = elf.clone();
        btf_ext::put_u32(&mut m, first + 8, off);
        expect_object_refused(what, m);
    }
    // Member indices out of range: every digit of the first access string becomes 9
    // ("0:0" -> "9:9"; the root struct has one member).
    let mut m = elf.clone();
    let access =
        u32::from_le_bytes(m[first + 8..first + 12].try_into().unwrap_or_default()) as usize;
    let s_start = strings_at + access;
    let s_len = m[s_start..].iter().position(|&b| b == 0).unwrap_or(0);
    for b in &mut m[s_start..s_start + s_len] {
        if b.is_ascii_digit() {
            *b = b'9';
        }
    }
    expect_object_refused("access string with out-of-range member indices", m);
}

// ---------------------------------------------------------------------------------------------
// decode_kernel_btf.

fn expect_decode_err(what: &str, input: Vec<u8>) {
    let len = input.len();
    let r = guarded(what, len, move || {
        btf::decode_kernel_btf(&input)
            .map(|b| b.len())
            .map_err(|e| e.to_string())
    });
    expect_err(what, r);
}

#[test]
fn bad_kernel_archives_are_rejected() {
    expect_decode_err("empty kernel input", Vec::new());
    expect_decode_err("text as kernel input", b"not a kernel BTF".to_vec());
    expect_decode_err(
        "xz magic then garbage",
        [&[0xfd, b'7', b'z', b'X', b'Z', 0][..], &[0x55; 64][..]].concat(),
    );
    let exe = std::env::current_exe()
        .map(|p| env::read(&p))
        .unwrap_or_default();
    if !exe.is_empty() {
        expect_decode_err("ELF without .BTF as kernel input", exe);
    }
    let Some(archive) = env::archive_dir() else {
        return;
    };
    let Some(file) = common::kernels::archive_files(&archive)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with(".tar.xz"))
    else {
        return;
    };
    let real = env::read(&file);
    for frac in [1, 2, 3, 5, 8] {
        let cut = real.len() * frac / 10;
        expect_decode_err(
            &format!("{} truncated to {cut} bytes", file.display()),
            real[..cut].to_vec(),
        );
    }
    let mut flipped = real.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 16] {
        *b ^= 0xa5;
    }
    expect_decode_err(
        &format!("{} with 16 corrupted bytes in the middle", file.display()),
        flipped,
    );
}

// ---------------------------------------------------------------------------------------------
// x86 kernel images (bzImage) given to decode_kernel_btf.

/// Compress with an external tool (`gzip -c`, `lz4 -l -c`, `xz -c`, ...); `None` if missing.
fn compress(tool: &str, args: &[&str], data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let path = common::tools::find_in_path(tool)?;
    let mut child = std::process::Command::new(path)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status.success().then_some(out.stdout)
}

/// A minimal bzImage: boot sector with the setup header (protocol 2.15, one setup sector),
/// then `payload` + the 4-byte decompressed size, as the kernel build lays it out.
fn bzimage(payload: &[u8], decompressed_len: u32) -> Vec<u8> {
    let mut img = vec![0u8; 1024];
    img[0x1f1] = 1;
    img[0x1fe..0x200].copy_from_slice(&[0x55, 0xaa]);
    img[0x202..0x206].copy_from_slice(b"HdrS");
    img[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    img[0x248..0x24c].copy_from_slice(&0u32.to_le_bytes());
    img[0x24c..0x250].copy_from_slice(&(payload.len() as u32 + 4).to_le_bytes());
    img.extend_from_slice(payload);
    img.extend_from_slice(&decompressed_len.to_le_bytes());
    img
}

fn decode_guarded(what: &str, input: Vec<u8>) -> Result<Vec<u8>, String> {
    let len = input.len();
    guarded(what, len, move || {
        btf::decode_kernel_btf(&input).map_err(|e| e.to_string())
    })
}

#[test]
fn kernel_images_decode_and_broken_ones_are_rejected() {
    // The "vmlinux" inside is a test BPF object: an ELF with a .BTF section.
    let Some(elf) = object_named("test/fields") else {
        return;
    };
    let expected =
        btf::decode_kernel_btf(&elf).unwrap_or_else(|e| panic!("decode of the ELF itself: {e}"));
    // zstd, bzip2 and lzo images may be refused, but then with a message naming the compression.
    let compressions: [(&str, &str, &[&str]); 6] = [
        ("gzip", "gzip", &["-c", "-9"]),
        ("lz4 (legacy frame)", "lz4", &["-l", "-c", "-9"]),
        ("xz", "xz", &["-c", "--check=crc32"]),
        ("lzma", "lzma", &["-c"]),
        ("zstd", "zstd", &["-c", "-q"]),
        ("bzip2", "bzip2", &["-c"]),
    ];
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for (name, tool, args) in compressions {
        let Some(payload) = compress(tool, args, &elf) else {
            eprintln!("notice: {tool} not available; {name} kernel images skipped");
            continue;
        };
        let image = bzimage(&payload, elf.len() as u32);
        match decode_guarded(&format!("{name} bzImage"), image.clone()) {
            Ok(raw) => assert!(
                raw == expected,
                "{name} bzImage: decoded BTF differs from the ELF's .BTF"
            ),
            Err(e) if ["zstd", "bzip2"].contains(&tool) && e.contains(tool) => {
                eprintln!("ok  {name} bzImage refused by design: {e}");
            }
            Err(e) => panic!("{name} bzImage: valid image rejected: {e}"),
        }
        // Broken variants must be rejected.
        let payload_start = 1024;
        let mut cases: Vec<(String, Vec<u8>)> = vec![
            (
                format!("{name} bzImage truncated in the payload"),
                image[..payload_start + payload.len() / 2].to_vec(),
            ),
            (
                format!("{name} bzImage truncated after the header"),
                image[..payload_start + 3].to_vec(),
            ),
        ];
        let mut past = image.clone();
        past[0x248..0x24c].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        cases.push((
            format!("{name} bzImage with payload_offset past the end"),
            past,
        ));
        let mut long = image.clone();
        long[0x24c..0x250].copy_from_slice(&u32::MAX.to_le_bytes());
        cases.push((format!("{name} bzImage with payload_length u32::MAX"), long));
        let mut sects = image.clone();
        sects[0x1f1] = 0xff;
        cases.push((
            format!("{name} bzImage with setup_sects past the end"),
            sects,
        ));
        let mut garbage = image.clone();
        for b in &mut garbage[payload_start + 16..payload_start + payload.len() - 16] {
            *b ^= 0x5a;
        }
        cases.push((format!("{name} bzImage with a corrupted payload"), garbage));
        for (what, input) in cases {
            expect_err(&what, decode_guarded(&what, input));
        }
        // A trailer claiming a 2 GiB vmlinux must not make the decoder allocate 2 GiB.
        let mut bomb = image.clone();
        let at = bomb.len() - 4;
        bomb[at..].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let _ = decode_guarded(&format!("{name} bzImage claiming a 2 GiB vmlinux"), bomb);
        // Random mutations: no panic, no hang, bounded allocation.
        for i in 0..150 {
            let mutant = mutate(&image, &mut rng);
            let _ = decode_guarded(&format!("{name} bzImage mutant #{i}"), mutant);
        }
    }
}
