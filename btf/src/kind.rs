//! BTF kinds and the bit layout of a type record's `info` word.

/// Kind numbers as in `include/uapi/linux/btf.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Kind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

/// Raw kind numbers, for matching on `info` words without conversion.
pub(crate) mod k {
    pub const UNKN: u8 = 0;
    pub const INT: u8 = 1;
    pub const PTR: u8 = 2;
    pub const ARRAY: u8 = 3;
    pub const STRUCT: u8 = 4;
    pub const UNION: u8 = 5;
    pub const ENUM: u8 = 6;
    pub const FWD: u8 = 7;
    pub const TYPEDEF: u8 = 8;
    pub const VOLATILE: u8 = 9;
    pub const CONST: u8 = 10;
    pub const RESTRICT: u8 = 11;
    pub const FUNC: u8 = 12;
    pub const FUNC_PROTO: u8 = 13;
    pub const VAR: u8 = 14;
    pub const DATASEC: u8 = 15;
    pub const FLOAT: u8 = 16;
    pub const DECL_TAG: u8 = 17;
    pub const TYPE_TAG: u8 = 18;
    pub const ENUM64: u8 = 19;
}

impl Kind {
    /// Converts a raw kind number; `None` for kinds this crate does not know.
    pub fn from_raw(kind: u8) -> Option<Kind> {
        use Kind::*;
        Some(match kind {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// libbpf's upper-case name (`STRUCT`, `ENUM64`, ...).
    pub fn name(self) -> &'static str {
        kind_name(self as u8)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Upper-case name of a raw kind number (`UNKNOWN` for unknown kinds).
pub(crate) fn kind_name(kind: u8) -> &'static str {
    const NAMES: [&str; 20] = [
        "UNKN",
        "INT",
        "PTR",
        "ARRAY",
        "STRUCT",
        "UNION",
        "ENUM",
        "FWD",
        "TYPEDEF",
        "VOLATILE",
        "CONST",
        "RESTRICT",
        "FUNC",
        "FUNC_PROTO",
        "VAR",
        "DATASEC",
        "FLOAT",
        "DECL_TAG",
        "TYPE_TAG",
        "ENUM64",
    ];
    NAMES.get(usize::from(kind)).copied().unwrap_or("UNKNOWN")
}

/// Kind from an `info` word (7-bit kind, bits 24..=30; a superset of the old 5-bit field).
#[inline]
pub(crate) fn info_kind(info: u32) -> u8 {
    ((info >> 24) & 0x7f) as u8
}

/// vlen from an `info` word (24-bit vlen, bits 0..=23; a superset of the old 16-bit field).
#[inline]
pub(crate) fn info_vlen(info: u32) -> u32 {
    info & 0x00ff_ffff
}

/// kflag from an `info` word (bit 31).
#[inline]
pub(crate) fn info_kflag(info: u32) -> bool {
    info >> 31 != 0
}

/// Builds an `info` word.
#[inline]
pub(crate) fn make_info(kind: u8, vlen: u32, kflag: bool) -> u32 {
    (u32::from(kflag) << 31) | (u32::from(kind & 0x7f) << 24) | (vlen & 0x00ff_ffff)
}

/// Number of 32-bit words after the 12-byte common header for a known kind (`UNKN`, kind 0,
/// has none, as in libbpf), or `None`.
#[inline]
pub(crate) fn extra_words(kind: u8, vlen: u32) -> Option<usize> {
    let vlen = vlen as usize;
    Some(match kind {
        k::INT | k::VAR | k::DECL_TAG => 1,
        k::ARRAY => 3,
        k::STRUCT | k::UNION | k::DATASEC | k::ENUM64 => 3 * vlen,
        k::ENUM | k::FUNC_PROTO => 2 * vlen,
        k::UNKN
        | k::PTR
        | k::FWD
        | k::TYPEDEF
        | k::VOLATILE
        | k::CONST
        | k::RESTRICT
        | k::FUNC
        | k::FLOAT
        | k::TYPE_TAG => 0,
        _ => return None,
    })
}

/// Word positions (relative to the record start) of a record's fields that hold type ids.
///
/// The single per-kind list of referenced ids: validation, marking and id remapping all use it.
#[inline]
pub(crate) fn id_slots(kind: u8, vlen: u32) -> Slots {
    let n = vlen as usize;
    match kind {
        k::PTR
        | k::TYPEDEF
        | k::VOLATILE
        | k::CONST
        | k::RESTRICT
        | k::FUNC
        | k::VAR
        | k::DECL_TAG
        | k::TYPE_TAG => Slots::new(&[2], 0, 0, 0),
        k::ARRAY => Slots::new(&[3, 4], 0, 0, 0),
        k::STRUCT | k::UNION => Slots::new(&[], 4, 3, n),
        k::FUNC_PROTO => Slots::new(&[2], 4, 2, n),
        k::DATASEC => Slots::new(&[], 3, 3, n),
        _ => Slots::new(&[], 0, 0, 0),
    }
}

/// Word positions of a record's fields that hold string offsets.
#[inline]
pub(crate) fn name_slots(kind: u8, vlen: u32) -> Slots {
    let n = vlen as usize;
    match kind {
        k::STRUCT | k::UNION | k::ENUM64 => Slots::new(&[0], 3, 3, n),
        k::ENUM | k::FUNC_PROTO => Slots::new(&[0], 3, 2, n),
        _ => Slots::new(&[0], 0, 0, 0),
    }
}

/// Iterator over word positions: up to two fixed ones, then `n` strided ones.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    head: [usize; 2],
    head_len: usize,
    head_pos: usize,
    base: usize,
    stride: usize,
    n: usize,
    i: usize,
}

impl Slots {
    fn new(head: &[usize], base: usize, stride: usize, n: usize) -> Slots {
        let mut h = [0; 2];
        for (d, s) in h.iter_mut().zip(head) {
            *d = *s;
        }
        Slots {
            head: h,
            head_len: head.len().min(2),
            head_pos: 0,
            base,
            stride,
            n,
            i: 0,
        }
    }
}

impl Iterator for Slots {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.head_pos < self.head_len {
            let v = self.head[self.head_pos];
            self.head_pos += 1;
            return Some(v);
        }
        if self.i < self.n {
            let v = self.base + self.i * self.stride;
            self.i += 1;
            return Some(v);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_roundtrip_wide() {
        let info = make_info(k::ENUM64, 0x12_3456, true);
        assert_eq!(info_kind(info), k::ENUM64);
        assert_eq!(info_vlen(info), 0x12_3456);
        assert!(info_kflag(info));
        assert_eq!(kind_name(19), "ENUM64");
        assert_eq!(kind_name(99), "UNKNOWN");
    }

    #[test]
    fn slots() {
        assert_eq!(
            id_slots(k::FUNC_PROTO, 2).collect::<Vec<_>>(),
            vec![2, 4, 6]
        );
        assert_eq!(id_slots(k::STRUCT, 2).collect::<Vec<_>>(), vec![4, 7]);
        assert_eq!(name_slots(k::ENUM, 2).collect::<Vec<_>>(), vec![0, 3, 5]);
        assert_eq!(id_slots(k::INT, 0).count(), 0);
    }
}
