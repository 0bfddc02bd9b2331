//! [`BtfBuilder`]: writes raw BTF (24-byte little-endian header) with deduplicated strings.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::header::write_header;
use crate::kind::{id_slots, info_kflag, info_kind, info_vlen, k, make_info, name_slots};
use crate::strings::StringsBuilder;

/// Builds a BTF blob type by type, like libbpf's `btf__add_*` API. Ids start at 1.
#[derive(Debug, Clone, Default)]
pub struct BtfBuilder {
    words: Vec<u32>,
    offsets: Vec<u32>,
    strings: StringsBuilder,
}

/// INT encoding flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntEncoding {
    /// Signed integer.
    pub signed: bool,
    /// Character type.
    pub char: bool,
    /// Boolean.
    pub bool: bool,
}

impl IntEncoding {
    /// A plain unsigned integer.
    pub const UNSIGNED: IntEncoding = IntEncoding {
        signed: false,
        char: false,
        bool: false,
    };
    /// A signed integer (`int`, `long`, ...).
    pub const SIGNED: IntEncoding = IntEncoding {
        signed: true,
        ..IntEncoding::UNSIGNED
    };
    /// `_Bool`.
    pub const BOOL: IntEncoding = IntEncoding {
        bool: true,
        ..IntEncoding::UNSIGNED
    };
}

impl BtfBuilder {
    /// An empty builder (only void).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of ids so far including void.
    pub fn type_count(&self) -> u32 {
        self.offsets.len() as u32 + 1
    }

    /// Interns a string and returns its offset.
    pub fn add_str(&mut self, s: &str) -> u32 {
        self.strings.add(s.as_bytes())
    }

    fn push(&mut self, kind: u8, name: &str, vlen: u32, kflag: bool, size_or_type: u32) -> u32 {
        let name_off = self.strings.add(name.as_bytes());
        self.push_raw(&[name_off, make_info(kind, vlen, kflag), size_or_type])
    }

    fn push_raw(&mut self, rec: &[u32]) -> u32 {
        self.offsets.push(self.words.len() as u32);
        self.words.extend_from_slice(rec);
        self.offsets.len() as u32
    }

    /// Adds an INT of `size` bytes.
    pub fn add_int(&mut self, name: &str, size: u32, enc: IntEncoding) -> u32 {
        let e = u32::from(enc.signed) | u32::from(enc.char) << 1 | u32::from(enc.bool) << 2;
        let id = self.push(k::INT, name, 0, false, size);
        self.words.push(e << 24 | (size * 8).min(128));
        id
    }

    /// Adds a PTR.
    pub fn add_ptr(&mut self, target: u32) -> u32 {
        self.push(k::PTR, "", 0, false, target)
    }

    /// Adds an ARRAY.
    pub fn add_array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        let id = self.push(k::ARRAY, "", 0, false, 0);
        self.words.extend_from_slice(&[elem, index, nelems]);
        id
    }

    /// Adds a STRUCT with no members yet; add them with [`BtfBuilder::add_member`].
    pub fn add_struct(&mut self, name: &str, size: u32) -> u32 {
        self.push(k::STRUCT, name, 0, false, size)
    }

    /// Adds a UNION with no members yet.
    pub fn add_union(&mut self, name: &str, size: u32) -> u32 {
        self.push(k::UNION, name, 0, false, size)
    }

    fn last_mut(&mut self) -> Option<(usize, u32)> {
        let off = *self.offsets.last()? as usize;
        let info = *self.words.get(off + 1)?;
        Some((off, info))
    }

    fn bump_vlen(&mut self, off: usize, info: u32, kflag: bool) {
        if let Some(w) = self.words.get_mut(off + 1) {
            *w = make_info(info_kind(info), info_vlen(info) + 1, kflag);
        }
    }

    /// Adds a member to the last type, which must be a struct or union (libbpf's `btf__add_field`).
    ///
    /// As in libbpf, the struct's kflag is set once a member is a bitfield or not byte-aligned.
    pub fn add_member(
        &mut self,
        name: &str,
        type_id: u32,
        bit_offset: u32,
        bitfield_size: u32,
    ) -> Result<()> {
        let (off, info) = self.last_mut().ok_or_else(|| Error::BadType {
            type_id: 0,
            kind: "STRUCT",
            msg: "add_member without a preceding struct/union".into(),
        })?;
        let kind = info_kind(info);
        let bad = |msg: String| Error::BadType {
            type_id: self.offsets.len() as u32,
            kind: crate::kind::kind_name(kind),
            msg,
        };
        if kind != k::STRUCT && kind != k::UNION {
            return Err(bad("add_member: last type is not a struct/union".into()));
        }
        let is_bitfield = bitfield_size != 0 || bit_offset % 8 != 0;
        if is_bitfield && (bitfield_size == 0 || bitfield_size > 255 || bit_offset > 0xff_ffff) {
            return Err(bad(format!(
                "member '{name}': invalid bitfield (bit offset {bit_offset}, size {bitfield_size})"
            )));
        }
        if kind == k::UNION && bit_offset != 0 {
            return Err(bad(format!(
                "member '{name}': union member at bit offset {bit_offset}"
            )));
        }
        let name_off = self.strings.add(name.as_bytes());
        self.words
            .extend_from_slice(&[name_off, type_id, bit_offset | bitfield_size << 24]);
        self.bump_vlen(off, info, is_bitfield || info_kflag(info));
        Ok(())
    }

    /// Adds an ENUM (4-byte values) with no values yet.
    pub fn add_enum(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        self.push(k::ENUM, name, 0, signed, size)
    }

    /// Adds an ENUM64 with no values yet.
    pub fn add_enum64(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        self.push(k::ENUM64, name, 0, signed, size)
    }

    /// Adds an enumerator to the last type (ENUM keeps the low 32 bits).
    pub fn add_enum_value(&mut self, name: &str, value: i64) -> Result<()> {
        let (off, info) = self.last_mut().ok_or_else(|| Error::BadType {
            type_id: 0,
            kind: "ENUM",
            msg: "add_enum_value without a preceding enum".into(),
        })?;
        let name_off = self.strings.add(name.as_bytes());
        match info_kind(info) {
            k::ENUM => self.words.extend_from_slice(&[name_off, value as u32]),
            k::ENUM64 => {
                self.words
                    .extend_from_slice(&[name_off, value as u32, (value as u64 >> 32) as u32])
            }
            _ => {
                return Err(Error::BadType {
                    type_id: self.offsets.len() as u32,
                    kind: crate::kind::kind_name(info_kind(info)),
                    msg: "add_enum_value: last type is not an enum".into(),
                })
            }
        }
        self.bump_vlen(off, info, info_kflag(info));
        Ok(())
    }

    /// Adds a FWD (`union = true` for `union X;`).
    pub fn add_fwd(&mut self, name: &str, union: bool) -> u32 {
        self.push(k::FWD, name, 0, union, 0)
    }

    /// Adds a TYPEDEF.
    pub fn add_typedef(&mut self, name: &str, target: u32) -> u32 {
        self.push(k::TYPEDEF, name, 0, false, target)
    }

    /// Adds a VOLATILE.
    pub fn add_volatile(&mut self, target: u32) -> u32 {
        self.push(k::VOLATILE, "", 0, false, target)
    }

    /// Adds a CONST.
    pub fn add_const(&mut self, target: u32) -> u32 {
        self.push(k::CONST, "", 0, false, target)
    }

    /// Adds a RESTRICT.
    pub fn add_restrict(&mut self, target: u32) -> u32 {
        self.push(k::RESTRICT, "", 0, false, target)
    }

    /// Adds a TYPE_TAG.
    pub fn add_type_tag(&mut self, name: &str, target: u32) -> u32 {
        self.push(k::TYPE_TAG, name, 0, false, target)
    }

    /// Adds a FUNC with the given linkage (0 static, 1 global, 2 extern).
    pub fn add_func(&mut self, name: &str, proto: u32, linkage: u32) -> u32 {
        self.push(k::FUNC, name, linkage, false, proto)
    }

    /// Adds a FUNC_PROTO with no parameters yet.
    pub fn add_func_proto(&mut self, ret: u32) -> u32 {
        self.push(k::FUNC_PROTO, "", 0, false, ret)
    }

    /// Adds a parameter to the last type, which must be a FUNC_PROTO.
    pub fn add_param(&mut self, name: &str, type_id: u32) -> Result<()> {
        self.add_tail(k::FUNC_PROTO, name, &[type_id])
    }

    /// Adds a VAR.
    pub fn add_var(&mut self, name: &str, type_id: u32, linkage: u32) -> u32 {
        let id = self.push(k::VAR, name, 0, false, type_id);
        self.words.push(linkage);
        id
    }

    /// Adds a DATASEC with no variables yet.
    pub fn add_datasec(&mut self, name: &str, size: u32) -> u32 {
        self.push(k::DATASEC, name, 0, false, size)
    }

    /// Adds a variable to the last type, which must be a DATASEC.
    pub fn add_datasec_var(&mut self, type_id: u32, offset: u32, size: u32) -> Result<()> {
        let (off, info) = self.tail_target(k::DATASEC)?;
        self.words.extend_from_slice(&[type_id, offset, size]);
        self.bump_vlen(off, info, info_kflag(info));
        Ok(())
    }

    fn tail_target(&self, want: u8) -> Result<(usize, u32)> {
        let off = self.offsets.last().map(|&o| o as usize);
        let info = off.and_then(|o| self.words.get(o + 1).copied());
        match (off, info) {
            (Some(off), Some(info)) if info_kind(info) == want => Ok((off, info)),
            _ => Err(Error::BadType {
                type_id: self.offsets.len() as u32,
                kind: crate::kind::kind_name(want),
                msg: format!(
                    "last type is not a {} to append to",
                    crate::kind::kind_name(want)
                ),
            }),
        }
    }

    fn add_tail(&mut self, want: u8, name: &str, rest: &[u32]) -> Result<()> {
        let (off, info) = self.tail_target(want)?;
        let name_off = self.strings.add(name.as_bytes());
        self.words.push(name_off);
        self.words.extend_from_slice(rest);
        self.bump_vlen(off, info, info_kflag(info));
        Ok(())
    }

    /// Adds a FLOAT.
    pub fn add_float(&mut self, name: &str, size: u32) -> u32 {
        self.push(k::FLOAT, name, 0, false, size)
    }

    /// Adds a DECL_TAG (`component_idx` -1 tags the type itself).
    pub fn add_decl_tag(&mut self, name: &str, target: u32, component_idx: i32) -> u32 {
        let id = self.push(k::DECL_TAG, name, 0, false, target);
        self.words.push(component_idx as u32);
        id
    }

    /// Copies type `id` of `src` verbatim (libbpf's `btf__add_type`): strings are re-interned,
    /// referenced type ids are kept as they are (remap them with [`BtfBuilder::remap_ids`]).
    pub fn add_type_from(&mut self, src: &Btf, id: u32) -> Option<u32> {
        let raw = src.raw(id)?;
        if id == 0 {
            return None;
        }
        let rec: Vec<u32> = raw.w.iter().collect();
        let new_id = self.push_raw(&rec);
        let base = self.words.len() - rec.len();
        let (kind, vlen) = (raw.kind(), raw.vlen());
        if crate::kind::extra_words(kind, vlen).is_some() {
            for slot in name_slots(kind, vlen) {
                let off = raw.at(slot);
                if off != 0 {
                    let new_off = self.strings.add(src.str_bytes(off));
                    if let Some(w) = self.words.get_mut(base + slot) {
                        *w = new_off;
                    }
                }
            }
        }
        Some(new_id)
    }

    /// Rewrites every referenced type id (in types `first..`) through `map` (libbpf's field iterator).
    pub fn remap_ids(&mut self, first: u32, mut map: impl FnMut(u32) -> u32) {
        for i in first.max(1) as usize..=self.offsets.len() {
            let Some(&off) = self.offsets.get(i - 1) else {
                continue;
            };
            let off = off as usize;
            let Some(&info) = self.words.get(off + 1) else {
                continue;
            };
            for slot in id_slots(info_kind(info), info_vlen(info)) {
                if let Some(w) = self.words.get_mut(off + slot) {
                    *w = map(*w);
                }
            }
        }
    }

    /// The raw BTF: 24-byte little-endian header, types, strings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let type_len = (self.words.len() * 4) as u32;
        let strs = self.strings.as_bytes();
        let mut out = Vec::with_capacity(24 + type_len as usize + strs.len());
        write_header(&mut out, type_len, strs.len() as u32);
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(strs);
        out
    }

    /// Writes and parses back.
    pub fn build(&self) -> Result<Btf> {
        Btf::parse(&self.to_bytes())
    }
}
