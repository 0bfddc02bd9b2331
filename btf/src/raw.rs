//! Wire view of one type record: the 12-byte common header plus its trailing words.

use crate::kind::{info_kflag, info_kind, info_vlen};

/// Little-endian 32-bit words stored as bytes (the parsed blob is kept as bytes, not copied).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words<'a>(pub &'a [u8]);

impl<'a> Words<'a> {
    /// Word `i`, 0 if out of range.
    #[inline]
    pub fn at(&self, i: usize) -> u32 {
        match self.0.get(i * 4..i * 4 + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }
    /// All words in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.0
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// A validated type record (all words present). Accessors never panic: missing words read as 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    pub w: Words<'a>,
}

/// The record of id 0 (void): all zero, like libbpf's `btf_void`.
pub(crate) static VOID_BYTES: [u8; 12] = [0; 12];

/// The void record.
pub(crate) fn void_raw<'a>() -> Raw<'a> {
    Raw {
        w: Words(&VOID_BYTES),
    }
}

impl<'a> Raw<'a> {
    #[inline]
    pub fn at(&self, i: usize) -> u32 {
        self.w.at(i)
    }
    #[inline]
    pub fn name_off(&self) -> u32 {
        self.at(0)
    }
    #[inline]
    pub fn info(&self) -> u32 {
        self.at(1)
    }
    #[inline]
    pub fn kind(&self) -> u8 {
        info_kind(self.info())
    }
    #[inline]
    pub fn vlen(&self) -> u32 {
        info_vlen(self.info())
    }
    #[inline]
    pub fn kflag(&self) -> bool {
        info_kflag(self.info())
    }
    /// `size` or `type`, depending on the kind.
    #[inline]
    pub fn size_or_type(&self) -> u32 {
        self.at(2)
    }
    /// Member `i` of a struct/union: (name_off, type, offset word).
    #[inline]
    pub fn member(&self, i: u32) -> (u32, u32, u32) {
        let b = 3 + 3 * i as usize;
        (self.at(b), self.at(b + 1), self.at(b + 2))
    }
    /// Bit offset of member `i`, honouring kflag.
    #[inline]
    pub fn member_bit_offset(&self, i: u32) -> u32 {
        let off = self.member(i).2;
        if self.kflag() {
            off & 0x00ff_ffff
        } else {
            off
        }
    }
    /// Bitfield size of member `i` (0 unless kflag is set).
    #[inline]
    pub fn member_bitfield_size(&self, i: u32) -> u32 {
        if self.kflag() {
            self.member(i).2 >> 24
        } else {
            0
        }
    }
    /// Array: (elem type, index type, nelems).
    #[inline]
    pub fn array(&self) -> (u32, u32, u32) {
        (self.at(3), self.at(4), self.at(5))
    }
    /// INT encoding word.
    #[inline]
    pub fn int_data(&self) -> u32 {
        self.at(3)
    }
    /// Name offset of enumerator `i` (ENUM or ENUM64).
    #[inline]
    pub fn enum_name_off(&self, i: u32, is64: bool) -> u32 {
        if is64 {
            self.at(3 + 3 * i as usize)
        } else {
            self.at(3 + 2 * i as usize)
        }
    }
    /// Value of enumerator `i` as libbpf reads it into a u64 (ENUM values are s32, sign-extended).
    #[inline]
    pub fn enum_value(&self, i: u32, is64: bool) -> u64 {
        if is64 {
            let b = 3 + 3 * i as usize;
            u64::from(self.at(b + 1)) | (u64::from(self.at(b + 2)) << 32)
        } else {
            self.at(4 + 2 * i as usize) as i32 as i64 as u64
        }
    }
    /// FUNC_PROTO parameter `i`: (name_off, type).
    #[inline]
    pub fn param(&self, i: u32) -> (u32, u32) {
        let b = 3 + 2 * i as usize;
        (self.at(b), self.at(b + 1))
    }
}
