//! Parse ↔ write round trips and bad-input tests for [`Btf`].

use super::Btf;
use crate::error::Error;
use crate::header::Endian;
use crate::kind::Kind;
use crate::types::Type;
use crate::write::{BtfBuilder, IntEncoding};

/// One type of every kind.
fn every_kind() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED); // 1
    let ptr = b.add_ptr(int); // 2
    b.add_array(int, int, 4); // 3
    let st = b.add_struct("s", 8); // 4
    b.add_member("a", int, 0, 0).unwrap();
    b.add_member("bits", int, 35, 3).unwrap();
    b.add_union("u", 4); // 5
    b.add_member("x", int, 0, 0).unwrap();
    b.add_enum("e", 4, true); // 6
    b.add_enum_value("NEG", -1).unwrap();
    b.add_fwd("f", true); // 7
    b.add_typedef("t", int); // 8
    b.add_volatile(int); // 9
    b.add_const(int); // 10
    b.add_restrict(ptr); // 11
    let proto = b.add_func_proto(int); // 12
    b.add_param("arg", ptr).unwrap();
    b.add_func("fn", proto, 1); // 13
    let var = b.add_var("v", int, 1); // 14
    b.add_datasec(".data", 4); // 15
    b.add_datasec_var(var, 0, 4).unwrap();
    b.add_float("double", 8); // 16
    b.add_decl_tag("tag", st, 0); // 17
    b.add_type_tag("user", int); // 18
    b.add_enum64("e64", 8, false); // 19
    b.add_enum_value("BIG", 0x1_0000_0001).unwrap();
    b
}

#[test]
fn every_kind_round_trips() {
    let bytes = every_kind().to_bytes();
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(btf.type_count(), 20);
    assert_eq!(btf.to_bytes(), bytes);
    let kinds: Vec<Kind> = (1..20).map(|id| btf.kind(id).unwrap()).collect();
    use Kind::*;
    assert_eq!(
        kinds,
        [
            Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict,
            FuncProto, Func, Var, Datasec, Float, DeclTag, TypeTag, Enum64
        ]
    );
    let Some(Type::Struct { members, .. }) = btf.type_by_id(4) else {
        panic!()
    };
    let bits = members.get(1).unwrap();
    assert_eq!((bits.bit_offset, bits.bitfield_size), (35, 3));
    let Some(Type::Enum { values, signed, .. }) = btf.type_by_id(6) else {
        panic!()
    };
    assert!(signed);
    assert_eq!(values.get(0).unwrap().signed_value(), -1);
    let Some(Type::Enum64 { values, .. }) = btf.type_by_id(19) else {
        panic!()
    };
    assert_eq!(values.get(0).unwrap().value, 0x1_0000_0001);
    assert!(matches!(
        btf.type_by_id(7),
        Some(Type::Fwd { union: true, .. })
    ));
    assert_eq!(btf.resolve(8), 1);
    assert_eq!(btf.resolve(10), 1);
    assert_eq!(btf.resolve(18), 1);
    assert_eq!(btf.ids_by_name("s").collect::<Vec<_>>(), [4]);
    assert_eq!(btf.size_of(3), Some(16));
    assert_eq!(btf.size_of(2), Some(8));
    assert!(btf.type_by_id(20).is_none());
    assert!(matches!(btf.type_by_id(0), Some(Type::Void)));
}

/// Converts little-endian raw BTF to big-endian (header and type words; strings as-is).
fn to_big_endian(le: &[u8]) -> Vec<u8> {
    let mut be = le.to_vec();
    be[0] = 0xeb;
    be[1] = 0x9f;
    let type_len = u32::from_le_bytes(le[12..16].try_into().unwrap()) as usize;
    for w in be[4..24 + type_len].chunks_exact_mut(4) {
        w.reverse();
    }
    be
}

#[test]
fn big_endian_input_parses_to_the_same_types() {
    let le = every_kind().to_bytes();
    let be = Btf::parse(&to_big_endian(&le)).unwrap();
    assert_eq!(be.endian(), Endian::Big);
    assert_eq!(be.to_bytes(), le);
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = every_kind().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Btf::parse(&bytes[..len]).is_err(),
            "prefix of {len} bytes accepted"
        );
    }
}

#[test]
fn garbage_never_panics() {
    let base = every_kind().to_bytes();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..3000 {
        let mut m = base.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let pos = (seed % m.len() as u64) as usize;
            m[pos] = (seed >> 32) as u8;
        }
        if let Ok(btf) = Btf::parse(&m) {
            for id in 0..btf.type_count() {
                let _ = btf.c_type_name(id);
                let _ = btf.size_of(id);
                let _ = btf.resolve(id);
                if let Some(Type::Struct { members, .. }) = btf.type_by_id(id) {
                    let _ = members.iter().count();
                }
            }
            assert!(Btf::parse(&btf.to_bytes()).is_ok());
        }
    }
}

#[test]
fn bad_references_name_the_type() {
    let mut b = BtfBuilder::new();
    b.add_ptr(7);
    let err = Btf::parse(&b.to_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TypeIdOutOfRange {
                type_id: 1,
                target: 7,
                ..
            }
        ),
        "{err}"
    );
    let mut b = BtfBuilder::new();
    b.add_typedef("a", 2);
    b.add_const(1);
    assert!(
        Btf::parse(&b.to_bytes()).is_err(),
        "modifier cycle accepted"
    );
}

#[test]
fn wide_vlen_encoding_is_read() {
    // A struct with 70000 members (vlen > 16 bits) parses and keeps all members.
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::default());
    b.add_struct("wide", 4);
    for _ in 0..70_000 {
        b.add_member("", int, 0, 0).unwrap();
    }
    let btf = b.build().unwrap();
    assert_eq!(btf.type_by_id(2).unwrap().members().unwrap().len(), 70_000);
}

/// `typedef fn_t` → PTR → FUNC_PROTO(p0..p7: PTR → the same FUNC_PROTO): legal pointer cycle
/// with fan-out; every walk must stay bounded.
pub(crate) fn fan_out_cycle(name: &str) -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::default()); // 1
    let ptr = b.add_ptr(3); // 2
    b.add_func_proto(int); // 3
    for _ in 0..8 {
        b.add_param("", ptr).unwrap();
    }
    b.add_typedef(name, ptr); // 4
    b
}

#[test]
fn pointer_cycles_with_fan_out_stay_bounded() {
    let btf = fan_out_cycle("fn_t").build().unwrap();
    let name = btf.c_type_name(4);
    assert_eq!(name, "fn_t");
    let spelled = btf.c_type_name(2);
    assert!(spelled.starts_with("int (*)("), "{spelled}");
    assert!(spelled.len() < 20_000, "{} characters", spelled.len());
}

#[test]
fn layout_section_lets_unknown_kinds_through() {
    // types: int, then an unknown kind 20 (vlen 2) described by the layout as 4 + 2 * 8 bytes.
    let base = {
        let mut b = BtfBuilder::new();
        b.add_int("int", 4, IntEncoding::default());
        b.to_bytes()
    };
    let type_len = u32::from_le_bytes(base[12..16].try_into().unwrap()) as usize;
    let mut types = base[24..24 + type_len].to_vec();
    let mut unknown = vec![0u32, crate::kind::make_info(20, 2, false), 0];
    unknown.extend([7u32; 5]);
    for w in unknown {
        types.extend_from_slice(&w.to_le_bytes());
    }
    let strings = base[24 + type_len..].to_vec();
    let assemble = |layout: &[u8]| {
        let mut blob = vec![0x9f, 0xeb, 1, 0];
        let (tl, ll, sl) = (
            types.len() as u32,
            layout.len() as u32,
            strings.len() as u32,
        );
        for v in [32, 0, tl, tl + ll, sl, tl, ll] {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        blob.extend_from_slice(&types);
        blob.extend_from_slice(layout);
        blob.extend_from_slice(&strings);
        blob
    };
    let mut layout = vec![0u8; 21 * 4];
    layout[20 * 4] = 4; // info_sz
    layout[20 * 4 + 1] = 8; // elem_sz
    let blob = assemble(&layout);
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.type_count(), 3);
    assert!(matches!(
        btf.type_by_id(2),
        Some(Type::Unknown { kind: 20 })
    ));
    assert_eq!(btf.to_bytes(), blob);
    // A layout that does not describe kind 20 makes it an unknown kind again.
    let err = Btf::parse(&assemble(&layout[..20 * 4])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnknownKind {
                type_id: 2,
                kind: 20
            }
        ),
        "{err}"
    );
}

#[test]
fn public_types_are_thread_safe() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Btf>();
    send_sync::<crate::BpfObject>();
    send_sync::<crate::Minimizer<'static>>();
    send_sync::<Error>();
}
