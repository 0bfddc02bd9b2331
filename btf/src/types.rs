//! The decoded, borrowed view of a type: one enum variant per kind with named fields.

use crate::kind::Kind;
use crate::raw::Raw;
use crate::strings::str_at;

/// A decoded BTF type. Referenced types are given by id; look them up with [`crate::Btf::type_by_id`].
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub enum Type<'a> {
    /// Id 0.
    Void,
    /// Integer. `bit_offset`/`bits` are the (legacy) INT encoding fields.
    Int {
        name: &'a str,
        size: u32,
        signed: bool,
        char: bool,
        bool: bool,
        bit_offset: u8,
        bits: u8,
    },
    Ptr {
        target: u32,
    },
    Array {
        elem: u32,
        index: u32,
        nelems: u32,
    },
    Struct {
        name: &'a str,
        size: u32,
        members: Members<'a>,
    },
    Union {
        name: &'a str,
        size: u32,
        members: Members<'a>,
    },
    Enum {
        name: &'a str,
        size: u32,
        signed: bool,
        values: EnumValues<'a>,
    },
    Enum64 {
        name: &'a str,
        size: u32,
        signed: bool,
        values: EnumValues<'a>,
    },
    /// Forward declaration; `union` tells `union X` from `struct X`.
    Fwd {
        name: &'a str,
        union: bool,
    },
    Typedef {
        name: &'a str,
        target: u32,
    },
    Volatile {
        target: u32,
    },
    Const {
        target: u32,
    },
    Restrict {
        target: u32,
    },
    Func {
        name: &'a str,
        proto: u32,
        linkage: u32,
    },
    FuncProto {
        ret: u32,
        params: Params<'a>,
    },
    Var {
        name: &'a str,
        type_id: u32,
        linkage: u32,
    },
    Datasec {
        name: &'a str,
        size: u32,
        vars: DatasecVars<'a>,
    },
    Float {
        name: &'a str,
        size: u32,
    },
    DeclTag {
        name: &'a str,
        target: u32,
        component_idx: i32,
    },
    TypeTag {
        name: &'a str,
        target: u32,
    },
    /// A kind this crate does not know, skipped thanks to the BTF layout section.
    Unknown {
        kind: u8,
    },
}

impl<'a> Type<'a> {
    pub(crate) fn decode(raw: Raw<'a>, strings: &'a [u8]) -> Type<'a> {
        let name = str_at(strings, raw.name_off());
        let t = raw.size_or_type();
        let kind = match Kind::from_raw(raw.kind()) {
            Some(kind) => kind,
            None => return Type::Unknown { kind: raw.kind() },
        };
        let seq = Seq {
            raw,
            strings,
            len: raw.vlen(),
        };
        match kind {
            Kind::Void => Type::Void,
            Kind::Int => {
                let d = raw.int_data();
                let enc = d >> 24;
                Type::Int {
                    name,
                    size: t,
                    signed: enc & 1 != 0,
                    char: enc & 2 != 0,
                    bool: enc & 4 != 0,
                    bit_offset: (d >> 16) as u8,
                    bits: d as u8,
                }
            }
            Kind::Ptr => Type::Ptr { target: t },
            Kind::Array => {
                let (elem, index, nelems) = raw.array();
                Type::Array {
                    elem,
                    index,
                    nelems,
                }
            }
            Kind::Struct => Type::Struct {
                name,
                size: t,
                members: Members(seq),
            },
            Kind::Union => Type::Union {
                name,
                size: t,
                members: Members(seq),
            },
            Kind::Enum | Kind::Enum64 => {
                let values = EnumValues {
                    seq,
                    is64: kind == Kind::Enum64,
                };
                let signed = raw.kflag();
                if kind == Kind::Enum {
                    Type::Enum {
                        name,
                        size: t,
                        signed,
                        values,
                    }
                } else {
                    Type::Enum64 {
                        name,
                        size: t,
                        signed,
                        values,
                    }
                }
            }
            Kind::Fwd => Type::Fwd {
                name,
                union: raw.kflag(),
            },
            Kind::Typedef => Type::Typedef { name, target: t },
            Kind::Volatile => Type::Volatile { target: t },
            Kind::Const => Type::Const { target: t },
            Kind::Restrict => Type::Restrict { target: t },
            Kind::Func => Type::Func {
                name,
                proto: t,
                linkage: raw.vlen(),
            },
            Kind::FuncProto => Type::FuncProto {
                ret: t,
                params: Params(seq),
            },
            Kind::Var => Type::Var {
                name,
                type_id: t,
                linkage: raw.at(3),
            },
            Kind::Datasec => Type::Datasec {
                name,
                size: t,
                vars: DatasecVars(seq),
            },
            Kind::Float => Type::Float { name, size: t },
            Kind::DeclTag => Type::DeclTag {
                name,
                target: t,
                component_idx: raw.at(3) as i32,
            },
            Kind::TypeTag => Type::TypeTag { name, target: t },
        }
    }

    /// The kind of this type (`None` for [`Type::Unknown`]).
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Type::Void => Kind::Void,
            Type::Int { .. } => Kind::Int,
            Type::Ptr { .. } => Kind::Ptr,
            Type::Array { .. } => Kind::Array,
            Type::Struct { .. } => Kind::Struct,
            Type::Union { .. } => Kind::Union,
            Type::Enum { .. } => Kind::Enum,
            Type::Enum64 { .. } => Kind::Enum64,
            Type::Fwd { .. } => Kind::Fwd,
            Type::Typedef { .. } => Kind::Typedef,
            Type::Volatile { .. } => Kind::Volatile,
            Type::Const { .. } => Kind::Const,
            Type::Restrict { .. } => Kind::Restrict,
            Type::Func { .. } => Kind::Func,
            Type::FuncProto { .. } => Kind::FuncProto,
            Type::Var { .. } => Kind::Var,
            Type::Datasec { .. } => Kind::Datasec,
            Type::Float { .. } => Kind::Float,
            Type::DeclTag { .. } => Kind::DeclTag,
            Type::TypeTag { .. } => Kind::TypeTag,
            Type::Unknown { .. } => return None,
        })
    }

    /// The type's name (`""` for anonymous and unnamed kinds).
    pub fn name(&self) -> &'a str {
        match *self {
            Type::Int { name, .. }
            | Type::Struct { name, .. }
            | Type::Union { name, .. }
            | Type::Enum { name, .. }
            | Type::Enum64 { name, .. }
            | Type::Fwd { name, .. }
            | Type::Typedef { name, .. }
            | Type::Func { name, .. }
            | Type::Var { name, .. }
            | Type::Datasec { name, .. }
            | Type::Float { name, .. }
            | Type::DeclTag { name, .. }
            | Type::TypeTag { name, .. } => name,
            _ => "",
        }
    }

    /// Members of a struct or union, `None` for other kinds.
    pub fn members(&self) -> Option<Members<'a>> {
        match *self {
            Type::Struct { members, .. } | Type::Union { members, .. } => Some(members),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Seq<'a> {
    raw: Raw<'a>,
    strings: &'a [u8],
    len: u32,
}

macro_rules! seq_type {
    ($(#[$doc:meta])* $name:ident, $item:ident, $get:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(Seq<'a>);

        impl<'a> $name<'a> {
            /// Number of entries.
            pub fn len(&self) -> usize {
                self.0.len as usize
            }
            /// True if there are no entries.
            pub fn is_empty(&self) -> bool {
                self.0.len == 0
            }
            /// Entry `i`, if in range.
            pub fn get(&self, i: usize) -> Option<$item<'a>> {
                if i < self.len() {
                    #[allow(clippy::redundant_closure_call)]
                    Some(($get)(&self.0, i as u32))
                } else {
                    None
                }
            }
            /// Iterates over the entries in order.
            pub fn iter(&self) -> impl ExactSizeIterator<Item = $item<'a>> + 'a {
                let s = self.0;
                #[allow(clippy::redundant_closure_call)]
                (0..s.len).map(move |i| ($get)(&s, i))
            }
        }
    };
}

/// A struct or union member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// Member name (`""` for anonymous embedded structs/unions).
    pub name: &'a str,
    /// Member type id.
    pub type_id: u32,
    /// Offset from the start of the composite, in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits (0 = not a bitfield, or a legacy INT-encoded bitfield).
    pub bitfield_size: u32,
}

seq_type!(
    /// Members of a struct or union.
    Members,
    Member,
    |s: &Seq<'a>, i: u32| {
        let (n, t, _) = s.raw.member(i);
        Member {
            name: str_at(s.strings, n),
            type_id: t,
            bit_offset: s.raw.member_bit_offset(i),
            bitfield_size: s.raw.member_bitfield_size(i),
        }
    }
);

/// An enumerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue<'a> {
    /// Enumerator name.
    pub name: &'a str,
    /// Value bits as a u64 (32-bit signed values are sign-extended, as libbpf reads them).
    pub value: u64,
}

impl EnumValue<'_> {
    /// The value as a signed integer.
    pub fn signed_value(&self) -> i64 {
        self.value as i64
    }
}

/// Enumerators of an ENUM or ENUM64.
#[derive(Debug, Clone, Copy)]
pub struct EnumValues<'a> {
    seq: Seq<'a>,
    is64: bool,
}

impl<'a> EnumValues<'a> {
    /// Number of enumerators.
    pub fn len(&self) -> usize {
        self.seq.len as usize
    }
    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.seq.len == 0
    }
    /// Enumerator `i`, if in range.
    pub fn get(&self, i: usize) -> Option<EnumValue<'a>> {
        (i < self.len()).then(|| self.at(i as u32))
    }
    fn at(&self, i: u32) -> EnumValue<'a> {
        let raw = self.seq.raw;
        let mut value = raw.enum_value(i, self.is64);
        if !self.is64 && !raw.kflag() {
            value &= 0xffff_ffff; // unsigned 32-bit enum: zero-extend
        }
        EnumValue {
            name: str_at(self.seq.strings, raw.enum_name_off(i, self.is64)),
            value,
        }
    }
    /// Iterates in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EnumValue<'a>> + 'a {
        let me = *self;
        (0..me.seq.len).map(move |i| me.at(i))
    }
}

/// A function prototype parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name (often empty).
    pub name: &'a str,
    /// Parameter type id (0 with an empty name in the last slot = varargs).
    pub type_id: u32,
}

seq_type!(
    /// Parameters of a FUNC_PROTO.
    Params,
    Param,
    |s: &Seq<'a>, i: u32| {
        let (n, t) = s.raw.param(i);
        Param {
            name: str_at(s.strings, n),
            type_id: t,
        }
    }
);

/// A variable in a DATASEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasecVar {
    /// VAR (or FUNC) type id.
    pub type_id: u32,
    /// Offset within the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// Helper so the macro can name a lifetime-free item.
type DatasecVarItem<'a> = DatasecVar;

seq_type!(
    /// Variables of a DATASEC.
    DatasecVars,
    DatasecVarItem,
    |s: &Seq<'a>, i: u32| {
        let b = 3 + 3 * i as usize;
        DatasecVar {
            type_id: s.raw.at(b),
            offset: s.raw.at(b + 1),
            size: s.raw.at(b + 2),
        }
    }
);
