//! Matcher tables: compatibility in both directions, spec matching and relocation values.

use super::compat::{fields_are_compat, types_are_compat, types_match};
use super::relo::{calc_relo, ReloRes};
use super::spec::{parse_spec, spec_match};
use super::ReloKind;
use crate::btf::Btf;
use crate::write::{BtfBuilder, IntEncoding};

const S: IntEncoding = IntEncoding {
    signed: true,
    char: false,
    bool: false,
};
const U: IntEncoding = IntEncoding {
    signed: false,
    char: false,
    bool: false,
};

/// Ids: 1 int, 2 unsigned int, 3 long, 4 ptr→int, 5 ptr→struct a, 6 struct a {int x; int y:3}, 7 union u,
/// 8 enum e, 9 enum64 e, 10 fwd struct a, 11 int[4], 12 float, 13 typedef int myint,
/// 14 proto int(int), 15 proto int(long), 16 struct f { int n; int data[]; } (flex), 17 int[0],
/// 18 enum other
fn types() -> Btf {
    let mut b = BtfBuilder::new();
    b.add_int("int", 4, S); // 1
    b.add_int("unsigned int", 4, U); // 2
    b.add_int("long", 8, S); // 3
    b.add_ptr(1); // 4
    b.add_ptr(6); // 5
    b.add_struct("a", 8); // 6
    b.add_member("x", 1, 0, 0).unwrap();
    b.add_member("y", 1, 32, 3).unwrap();
    b.add_union("u", 4); // 7
    b.add_member("x", 1, 0, 0).unwrap();
    b.add_enum("e", 4, false); // 8
    b.add_enum_value("A", 1).unwrap();
    b.add_enum64("e", 8, false); // 9
    b.add_enum_value("A", 1 << 40).unwrap();
    b.add_fwd("a", false); // 10
    b.add_array(1, 1, 4); // 11
    b.add_float("float", 4); // 12
    b.add_typedef("myint", 1); // 13
    b.add_func_proto(1); // 14
    b.add_param("", 1).unwrap();
    b.add_func_proto(1); // 15
    b.add_param("", 3).unwrap();
    b.add_struct("f", 4); // 16
    b.add_member("n", 1, 0, 0).unwrap();
    b.add_member("data", 17, 32, 0).unwrap();
    b.add_array(1, 1, 0); // 17
    b.add_enum("other", 4, false); // 18
    b.add_enum_value("B", 2).unwrap();
    b.build().unwrap()
}

#[test]
fn fields_compat_table_is_symmetric() {
    let t = types();
    // (a, b, compatible)
    let rows = [
        (1, 2, true),    // ints of any size/sign
        (1, 3, true),    //
        (1, 13, true),   // typedef skipped
        (4, 5, true),    // any pointers
        (6, 7, true),    // any composites
        (8, 9, true),    // enum ~ enum64, same name
        (8, 18, false),  // different enum names
        (12, 12, true),  // floats
        (1, 12, false),  // int vs float
        (11, 11, true),  // arrays recurse
        (11, 1, false),  // array vs int
        (14, 15, false), // func protos are not field-compatible
        (10, 10, true),  // fwd, same name
    ];
    for (a, b, want) in rows {
        assert_eq!(
            fields_are_compat(&t, a, &t, b).unwrap(),
            want,
            "fields {a} / {b}"
        );
        assert_eq!(
            fields_are_compat(&t, b, &t, a).unwrap(),
            want,
            "fields {b} / {a}"
        );
    }
}

#[test]
fn types_compat_and_match_tables() {
    let t = types();
    let compat = [
        (6, 6, true),
        (6, 7, false),
        (8, 9, true),
        (4, 4, true),
        (14, 14, true),
        (14, 15, true), // int vs long params: ints are compatible
        (11, 11, true),
    ];
    for (a, b, want) in compat {
        assert_eq!(
            types_are_compat(&t, a, &t, b).unwrap(),
            want,
            "compat {a} / {b}"
        );
        assert_eq!(
            types_are_compat(&t, b, &t, a).unwrap(),
            want,
            "compat {b} / {a}"
        );
    }
    let matches = [
        (6, 6, true),
        (1, 2, false),   // signedness differs
        (1, 3, false),   // names differ
        (14, 15, false), // param sizes differ
        (8, 9, false),   // enum sizes differ
        (11, 11, true),
    ];
    for (a, b, want) in matches {
        assert_eq!(types_match(&t, a, &t, b).unwrap(), want, "match {a} / {b}");
    }
}

fn value(t: &Btf, kind: ReloKind, root: u32, access: &str) -> ReloRes {
    let local = parse_spec(t, kind, root, access).unwrap();
    let targ = spec_match(&local, t, t, root).unwrap().unwrap();
    calc_relo(kind, (t, &local), Some((t, &targ))).unwrap()
}

#[test]
fn relocation_values_match_libbpf_rules() {
    let t = types();
    let v = |kind, root, access| value(&t, kind, root, access).new_val;
    // struct a: x at byte 0 (4 bytes), y:3 bitfield at bit 32.
    assert_eq!(v(ReloKind::FieldByteOffset, 6, "0:0"), 0);
    assert_eq!(v(ReloKind::FieldByteSize, 6, "0:0"), 4);
    assert_eq!(v(ReloKind::FieldSigned, 6, "0:0"), 1);
    assert_eq!(v(ReloKind::FieldByteOffset, 6, "0:1"), 4);
    assert_eq!(v(ReloKind::FieldLshiftU64, 6, "0:1"), 64 - 3);
    assert_eq!(v(ReloKind::FieldRshiftU64, 6, "0:1"), 64 - 3);
    assert_eq!(v(ReloKind::FieldByteOffset, 6, "1:0"), 8); // second element of a pointer
                                                           // flexible array element: offset 4 + 3 * 4, size of one element
    assert_eq!(v(ReloKind::FieldByteOffset, 16, "0:1:3"), 16);
    assert_eq!(v(ReloKind::FieldByteSize, 16, "0:1:3"), 4);
    assert_eq!(v(ReloKind::TypeSize, 6, "0"), 8);
    assert_eq!(v(ReloKind::TypeIdTarget, 6, "0"), 6);
    assert_eq!(v(ReloKind::EnumvalValue, 9, "0"), 1 << 40);
    assert_eq!(v(ReloKind::EnumvalExists, 8, "0"), 1);
}

#[test]
fn malformed_access_strings_are_errors() {
    let t = types();
    for (kind, root, access) in [
        (ReloKind::FieldByteOffset, 6, ""),
        (ReloKind::FieldByteOffset, 6, ":0"),
        (ReloKind::FieldByteOffset, 6, "0:"),
        (ReloKind::FieldByteOffset, 6, "0:9"),
        (ReloKind::FieldByteOffset, 6, "0:x"),
        (ReloKind::FieldByteOffset, 11, "0:4"), // past the array
        (ReloKind::TypeExists, 6, "1"),
        (ReloKind::EnumvalValue, 8, "1"),
        (ReloKind::EnumvalValue, 6, "0"),
    ] {
        assert!(
            parse_spec(&t, kind, root, access).is_err(),
            "{kind} {root} '{access}'"
        );
    }
    let too_long = vec!["0"; 65].join(":");
    assert!(parse_spec(&t, ReloKind::FieldByteOffset, 11, &too_long).is_err());
}

#[test]
fn array_access_is_rejected_for_signedness() {
    let t = types();
    let local = parse_spec(&t, ReloKind::FieldSigned, 16, "0:1:3").unwrap();
    assert!(calc_relo(ReloKind::FieldSigned, (&t, &local), None).is_err());
    // No target: field kinds other than exists poison, exists gives 0.
    let local = parse_spec(&t, ReloKind::FieldByteOffset, 6, "0:0").unwrap();
    assert!(
        calc_relo(ReloKind::FieldByteOffset, (&t, &local), None)
            .unwrap()
            .poison
    );
    let local = parse_spec(&t, ReloKind::FieldExists, 6, "0:0").unwrap();
    let r = calc_relo(ReloKind::FieldExists, (&t, &local), None).unwrap();
    assert_eq!((r.poison, r.new_val), (false, 0));
}
