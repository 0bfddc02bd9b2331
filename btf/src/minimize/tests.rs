//! Minimiser tests on hand-built kernel and local BTF (no ELF needed).

use super::Minimizer;
use crate::btf::Btf;
use crate::core::ReloKind;
use crate::error::Error;
use crate::ext::{CoreRelo, RelocSection};
use crate::types::Type;
use crate::write::{BtfBuilder, IntEncoding};

const SIGNED: IntEncoding = IntEncoding {
    signed: true,
    char: false,
    bool: false,
};

/// Kernel: int, struct task_struct { int pid; int tgid; struct task_struct *parent; union {int a; int b;}; },
/// plus an enum and a second, unrelated struct.
fn kernel() -> Btf {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, SIGNED); // 1
    let ts = b.add_struct("task_struct", 24); // 2
    b.add_member("pid", int, 0, 0).unwrap();
    b.add_member("tgid", int, 32, 0).unwrap();
    b.add_member("parent", 3, 64, 0).unwrap();
    b.add_member("", 4, 128, 0).unwrap();
    let p = b.add_ptr(ts); // 3
    assert_eq!(p, 3);
    let u = b.add_union("", 4); // 4
    b.add_member("a", int, 0, 0).unwrap();
    b.add_member("b", int, 0, 0).unwrap();
    assert_eq!(u, 4);
    let e = b.add_enum("state", 4, false); // 5
    b.add_enum_value("RUNNING", 0).unwrap();
    b.add_enum_value("SLEEPING", 1).unwrap();
    assert_eq!(e, 5);
    b.add_struct("unrelated", 4); // 6
    b.add_member("x", int, 0, 0).unwrap();
    b.build().unwrap()
}

/// Local: struct task_struct___local { int tgid; int b; }, enum state { SLEEPING }.
struct Local {
    btf: Btf,
    access: Vec<(String, u32)>,
}

fn local() -> Local {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, SIGNED); // 1
    b.add_struct("task_struct___local", 8); // 2
    b.add_member("tgid", int, 0, 0).unwrap();
    b.add_member("b", int, 32, 0).unwrap();
    b.add_enum("state", 4, false); // 3
    b.add_enum_value("SLEEPING", 1).unwrap();
    b.add_struct("", 4); // 4: anonymous
    b.add_member("q", int, 0, 0).unwrap();
    b.add_struct("missing_in_kernel", 4); // 5
    b.add_member("q", int, 0, 0).unwrap();
    let mut access = Vec::new();
    for s in ["0", "0:0", "0:1", "0:1:0"] {
        access.push((s.to_string(), b.add_str(s)));
    }
    let sec = b.add_str("kprobe/x");
    access.push(("kprobe/x".into(), sec));
    Local {
        btf: b.build().unwrap(),
        access,
    }
}

impl Local {
    fn off(&self, s: &str) -> u32 {
        self.access.iter().find(|(a, _)| a == s).unwrap().1
    }
    fn relo(&self, kind: ReloKind, type_id: u32, access: &str) -> CoreRelo {
        CoreRelo {
            insn_off: 0,
            type_id,
            access_str_off: self.off(access),
            kind: kind as u32,
        }
    }
}

fn run(relos: Vec<CoreRelo>) -> Result<Btf, Error> {
    let k = kernel();
    let l = local();
    let mut m = Minimizer::new(&k);
    m.add_relocs(
        &l.btf,
        &[RelocSection {
            name: "kprobe/x".into(),
            relos,
        }],
    )?;
    Ok(Btf::parse(&m.finish()).unwrap())
}

fn names(btf: &Btf) -> Vec<String> {
    (1..btf.type_count())
        .map(|id| format!("{}:{}", btf.kind(id).unwrap(), btf.name(id)))
        .collect()
}

#[test]
fn field_relo_keeps_only_the_access_path() {
    let l = local();
    let out = run(vec![l.relo(ReloKind::FieldByteOffset, 2, "0:0")]).unwrap();
    assert_eq!(names(&out), ["INT:int", "STRUCT:task_struct"]);
    let Some(Type::Struct { size, members, .. }) = out.type_by_id(2) else {
        panic!("not a struct")
    };
    assert_eq!(size, 24);
    let m: Vec<_> = members.iter().map(|m| (m.name, m.bit_offset)).collect();
    assert_eq!(m, [("tgid", 32)]);
}

#[test]
fn field_relo_through_anonymous_union() {
    let l = local();
    let out = run(vec![l.relo(ReloKind::FieldExists, 2, "0:1")]).unwrap();
    assert_eq!(names(&out), ["INT:int", "STRUCT:task_struct", "UNION:"]);
    let ts = out.type_by_id(2).and_then(|t| t.members()).unwrap();
    assert_eq!(ts.get(0).unwrap().bit_offset, 128);
    assert_eq!(ts.get(0).unwrap().type_id, 3);
}

#[test]
fn type_relo_emits_struct_without_members_and_enum_whole() {
    let l = local();
    let out = run(vec![
        l.relo(ReloKind::TypeExists, 2, "0"),
        l.relo(ReloKind::EnumvalValue, 3, "0"),
    ])
    .unwrap();
    assert_eq!(names(&out), ["STRUCT:task_struct", "ENUM:state"]);
    assert_eq!(out.type_by_id(1).unwrap().members().unwrap().len(), 0);
    let Some(Type::Enum { values, .. }) = out.type_by_id(2) else {
        panic!()
    };
    assert_eq!(values.len(), 2);
}

#[test]
fn type_matches_keeps_members_and_stops_behind_pointers() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, SIGNED);
    b.add_struct("task_struct", 8);
    b.add_member("pid", int, 0, 0).unwrap();
    let mut access = b.clone();
    let zero = access.add_str("0");
    let l = access.build().unwrap();
    let k = kernel();
    let mut m = Minimizer::new(&k);
    let relo = CoreRelo {
        insn_off: 0,
        type_id: 2,
        access_str_off: zero,
        kind: ReloKind::TypeMatches as u32,
    };
    m.add_relocs(
        &l,
        &[RelocSection {
            name: "s".into(),
            relos: vec![relo],
        }],
    )
    .unwrap();
    let out = Btf::parse(&m.finish()).unwrap();
    // task_struct with all 4 members; parent pointer kept (struct behind it already marked).
    assert_eq!(
        names(&out),
        ["INT:int", "STRUCT:task_struct", "PTR:", "UNION:"]
    );
    assert_eq!(out.type_by_id(2).unwrap().members().unwrap().len(), 4);
}

#[test]
fn no_candidate_marks_nothing_and_anonymous_root_is_an_error() {
    let l = local();
    let out = run(vec![l.relo(ReloKind::FieldExists, 5, "0:0")]).unwrap();
    assert_eq!(out.type_count(), 1);
    let err = run(vec![l.relo(ReloKind::FieldExists, 4, "0:0")]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("anonymous"), "{msg}");
    assert!(msg.contains("program 'kprobe/x'"), "{msg}");
    assert!(msg.contains("field_exists"), "{msg}");
}

#[test]
fn ambiguous_candidates_are_refused() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, SIGNED);
    b.add_struct("s", 8);
    b.add_member("f", int, 0, 0).unwrap();
    b.add_struct("s", 8);
    b.add_member("f", int, 32, 0).unwrap();
    let k = b.build().unwrap();
    let l = local();
    let mut lb = BtfBuilder::new();
    let int = lb.add_int("int", 4, SIGNED);
    lb.add_struct("s___x", 4);
    lb.add_member("f", int, 0, 0).unwrap();
    let acc = lb.add_str("0:0");
    let lbtf = lb.build().unwrap();
    drop(l);
    let mut m = Minimizer::new(&k);
    let err = m
        .add_relocs(
            &lbtf,
            &[RelocSection {
                name: "tp/a".into(),
                relos: vec![CoreRelo {
                    insn_off: 8,
                    type_id: 2,
                    access_str_off: acc,
                    kind: 0,
                }],
            }],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("field offset ambiguity"), "{err}");
    assert!(err.contains("'s___x'"), "{err}");
    assert!(err.contains("access '0:0'"), "{err}");
}

#[test]
fn bad_relocations_are_errors_not_panics() {
    let l = local();
    for relo in [
        CoreRelo {
            kind: 99,
            ..l.relo(ReloKind::FieldExists, 2, "0:0")
        },
        CoreRelo {
            type_id: 999,
            ..l.relo(ReloKind::FieldExists, 2, "0:0")
        },
        CoreRelo {
            access_str_off: 1 << 30,
            ..l.relo(ReloKind::FieldExists, 2, "0:0")
        },
        l.relo(ReloKind::FieldExists, 2, "0:1:0"),
        l.relo(ReloKind::TypeExists, 2, "0:0"),
        l.relo(ReloKind::FieldSigned, 3, "0"),
    ] {
        assert!(run(vec![relo]).is_err(), "{relo:?} accepted");
    }
}

#[test]
fn compat_checks_on_pointer_cycles_stay_bounded() {
    let k = crate::btf::tests::fan_out_cycle("fn_t").build().unwrap();
    let mut lb = crate::btf::tests::fan_out_cycle("fn_t");
    let zero = lb.add_str("0");
    let l = lb.build().unwrap();
    for kind in [ReloKind::TypeExists, ReloKind::TypeMatches] {
        let mut m = Minimizer::new(&k);
        let relo = CoreRelo {
            insn_off: 0,
            type_id: 4,
            access_str_off: zero,
            kind: kind as u32,
        };
        let started = std::time::Instant::now();
        let _ = m.add_relocs(
            &l,
            &[RelocSection {
                name: "s".into(),
                relos: vec![relo],
            }],
        );
        let _ = m.finish();
        // Not a timing assertion on normal input: without the step budgets this never ends.
        assert!(started.elapsed().as_secs() < 60);
    }
}
