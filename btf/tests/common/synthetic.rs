//! Synthetic kernels: raw BTF built with [`BtfWriter`] for cases real kernels do not have
//! (multi-dimensional arrays, duplicate type names, ambiguous candidates). The matching local
//! types are in tests/bpf/synthetic.bpf.c and tests/bpf/ambiguous.bpf.c.

use super::btf_writer::{kind, to_big_endian, BtfWriter};

/// Every synthetic kernel as (name, raw BTF).
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("rich", rich()),
        ("ambiguous", ambiguous()),
        ("ambiguous_flavours", ambiguous_flavours()),
        ("tags", tags()),
        (
            "rich_big_endian",
            to_big_endian(&rich()).unwrap_or_default(),
        ),
    ]
}

/// Types for synthetic.bpf.c with layouts different from the local ones, two consistent
/// `struct bpfc_dup` candidates (same offset of the accessed member: not ambiguous, the first
/// one is kept), and a few real-kernel names with partial members so the vmlinux-based test
/// objects find candidates that match some relocations and not others.
pub fn rich() -> Vec<u8> {
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    let long = w.int("long int", 8, true);
    let short = w.int("short int", 2, true);
    let uint = w.int("unsigned int", 4, false);
    let row = w.array(int, int, 4);
    let cells = w.array(row, int, 3);
    let point = w.struct_(
        "bpfc_point",
        12,
        &[("y", int, 0, 0), ("x", int, 32, 0), ("z", int, 64, 0)],
    );
    let pts = w.array(point, int, 2);
    let halves = w.struct_("", 4, &[("lo", short, 0, 0), ("hi", short, 16, 0)]);
    let word = w.union_("", 4, &[("", halves, 0, 0), ("word", int, 0, 0)]);
    let grid_ptr_slot = w.next_id() + 1;
    w.struct_(
        "bpfc_grid",
        104,
        &[
            ("pad", long, 0, 0),
            ("cells", cells, 64, 0),
            ("pts", pts, 448, 0),
            ("", word, 640, 0),
            ("flag", uint, 672, 3),
            ("sflag", int, 675, 5),
            ("extra", int, 704, 0),
            ("self", grid_ptr_slot, 768, 0),
        ],
    );
    let grid = grid_ptr_slot - 1;
    w.ptr(grid);
    w.struct_(
        "bpfc_dup",
        24,
        &[("pad", long, 0, 0), ("b", long, 64, 0), ("a", int, 128, 0)],
    );
    w.struct_("bpfc_dup", 16, &[("other", int, 0, 0), ("b", long, 64, 0)]);
    // Partial real-kernel names.
    let task_slot = w.next_id();
    let task_ptr = task_slot + 1;
    w.struct_(
        "task_struct",
        32,
        &[
            ("pid", int, 0, 0),
            ("tgid", int, 32, 0),
            ("real_parent", task_ptr, 64, 0),
            ("comm", row, 128, 0),
        ],
    );
    w.ptr(task_slot);
    w.enum_("pid_type", &[("PIDTYPE_PID", 0), ("PIDTYPE_TGID", 1)]);
    w.enum64(
        "perf_callchain_context",
        &[("PERF_CONTEXT_KERNEL", 0xffff_ffff_ffff_ff80)],
    );
    w.reference(kind::TYPEDEF, "u64", long);
    w.finish()
}

/// Two `struct bpfc_amb` whose member `b` is at different offsets: libbpf reports a field
/// offset ambiguity, so minimisation of ambiguous.bpf.o must be refused.
pub fn ambiguous() -> Vec<u8> {
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    w.struct_("bpfc_amb", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    w.struct_("bpfc_amb", 8, &[("b", int, 0, 0), ("a", int, 32, 0)]);
    w.finish()
}

/// The same ambiguity through kernel-side flavours: `bpfc_amb___v1` and `bpfc_amb___v2` are
/// both candidates of the local `bpfc_amb`.
pub fn ambiguous_flavours() -> Vec<u8> {
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    w.struct_("bpfc_amb___v1", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    w.struct_(
        "bpfc_amb___v2",
        12,
        &[("a", int, 0, 0), ("pad", int, 32, 0), ("b", int, 64, 0)],
    );
    w.finish()
}

/// Kinds btfgen's marking does not descend into: `bpfc_uptr` is a typedef of a pointer to a
/// TYPE_TAG, `bpfc_fwdptr` a typedef of a pointer to a FWD, `struct bpfc_tagged` has such
/// members; plus a DECL_TAG on a member, a FUNC with its FUNC_PROTO, a VAR and a DATASEC.
/// `bpfc_sptr` and member `bpfc_tagged.q` share one PTR to `struct bpfc_inner`, for the
/// marking-order case (a field relocation marks the PTR without following it, a later type
/// relocation must still follow it).
pub fn tags() -> Vec<u8> {
    let mut w = BtfWriter::new();
    let int = w.int("int", 4, true);
    let tag = w.reference(kind::TYPE_TAG, "user", int);
    let tagged_ptr = w.ptr(tag);
    w.reference(kind::TYPEDEF, "bpfc_uptr", tagged_ptr);
    let fwd_name = w.str("bpfc_opaque");
    let fwd = w.header(fwd_name, kind::FWD, 0, false, 0);
    let fwd_ptr = w.ptr(fwd);
    w.reference(kind::TYPEDEF, "bpfc_fwdptr", fwd_ptr);
    let inner = w.struct_("bpfc_inner", 4, &[("a", int, 0, 0)]);
    let inner_ptr = w.ptr(inner);
    w.reference(kind::TYPEDEF, "bpfc_sptr", inner_ptr);
    let tagged = w.struct_(
        "bpfc_tagged",
        32,
        &[
            ("v", int, 0, 0),
            ("p", tagged_ptr, 64, 0),
            ("o", fwd_ptr, 128, 0),
            ("q", inner_ptr, 192, 0),
        ],
    );
    let decl = w.str("bpfc_note");
    w.header(decl, kind::DECL_TAG, 0, false, tagged);
    w.u32(1);
    let proto = w.header(0, kind::FUNC_PROTO, 1, false, int);
    let arg = w.str("x");
    w.u32(arg).u32(tagged_ptr);
    let func = w.str("bpfc_func");
    w.header(func, kind::FUNC, 1, false, proto);
    let var_name = w.str("bpfc_var");
    let var = w.header(var_name, kind::VAR, 0, false, int);
    w.u32(1);
    let sec = w.str(".data..bpfc");
    w.header(sec, kind::DATASEC, 1, false, 4);
    w.u32(var).u32(0).u32(4);
    w.finish()
}
