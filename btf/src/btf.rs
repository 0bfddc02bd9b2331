//! [`Btf`]: a parsed, validated BTF blob with cheap lazy accessors.

use crate::error::{Error, Result};
use crate::header::{write_header, Endian, BASE_HEADER_LEN, LAYOUT_HEADER_LEN, MAGIC};
use crate::kind::{k, Kind};
use crate::parse;
use crate::raw::{void_raw, Raw, Words};
use crate::strings::{bytes_at, str_at};
use crate::types::Type;

/// Depth limit for every walk over the type graph (libbpf's `MAX_RESOLVE_DEPTH`).
pub const MAX_RESOLVE_DEPTH: u32 = 32;

/// Parsed and validated BTF. Owns its data; type ids are `0..type_count()`, 0 being void.
#[derive(Clone)]
pub struct Btf {
    /// The input blob; type words are little-endian (swapped in place for big-endian input).
    data: Vec<u8>,
    types: std::ops::Range<usize>,
    strings: std::ops::Range<usize>,
    layout: std::ops::Range<usize>,
    /// Word index (within the type section) of each type id.
    offsets: Vec<u32>,
    /// Raw kind per type id (compact, for scans that filter by kind).
    kinds: Vec<u8>,
    endian: Endian,
}

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.type_count())
            .field("strings_len", &self.strings.len())
            .field("endian", &self.endian)
            .finish()
    }
}

impl PartialEq for Btf {
    fn eq(&self, other: &Self) -> bool {
        self.type_bytes() == other.type_bytes()
            && self.strings() == other.strings()
            && self.layout_bytes() == other.layout_bytes()
    }
}

impl Btf {
    /// Parses a raw BTF blob of either byte order, validating every record.
    pub fn parse(raw: &[u8]) -> Result<Btf> {
        Btf::from_vec(raw.to_vec())
    }

    /// Like [`Btf::parse`] but takes ownership of the buffer, avoiding a copy of the blob
    /// (e.g. `Btf::from_vec(decode_kernel_btf(&file)?)`).
    pub fn from_vec(raw: Vec<u8>) -> Result<Btf> {
        let p = parse::parse(raw)?;
        Ok(Btf {
            data: p.data,
            types: p.types,
            strings: p.strings,
            layout: p.layout,
            offsets: p.offsets,
            kinds: p.kinds,
            endian: p.endian,
        })
    }

    /// Parses the `.BTF` section of an ELF file (BPF object or vmlinux).
    pub fn from_elf(elf: &[u8]) -> Result<Btf> {
        let image = crate::elf::ElfImage::parse(elf)?;
        Btf::from_vec(image.section_copy(".BTF")?.ok_or(Error::NoBtfSection)?)
    }

    /// Byte order of the input this was parsed from.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Number of type ids including 0 (void).
    pub fn type_count(&self) -> u32 {
        self.offsets.len() as u32
    }

    /// The decoded type with this id; `Some(Type::Void)` for 0, `None` if out of range.
    pub fn type_by_id(&self, id: u32) -> Option<Type<'_>> {
        self.raw(id).map(|r| Type::decode(r, self.strings()))
    }

    /// The kind of a type (`None` if out of range or unknown).
    pub fn kind(&self, id: u32) -> Option<Kind> {
        self.raw(id).and_then(|r| Kind::from_raw(r.kind()))
    }

    /// The name of a type (`""` if anonymous or out of range).
    pub fn name(&self, id: u32) -> &str {
        self.raw(id)
            .map(|r| str_at(self.strings(), r.name_off()))
            .unwrap_or("")
    }

    /// Ids of all types with exactly this name, in id order.
    pub fn ids_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = u32> + 'a {
        let want = name.as_bytes();
        (1..self.type_count()).filter(move |&id| {
            self.raw(id)
                .is_some_and(|r| self.str_bytes(r.name_off()) == want)
        })
    }

    /// Follows typedef/const/volatile/restrict/type_tag to the first other type (0 stays 0).
    ///
    /// Always terminates: modifier cycles are rejected at parse time.
    pub fn resolve(&self, id: u32) -> u32 {
        self.skip_mods_and_typedefs(id).0
    }

    /// Size in bytes of a type as libbpf's `btf__resolve_size` computes it (pointers are 8 bytes).
    pub fn size_of(&self, id: u32) -> Option<u64> {
        self.resolve_size(id)
    }

    /// The C spelling of a type: `"unsigned int"`, `"char[16]"`, `"struct event *"`.
    pub fn c_type_name(&self, id: u32) -> String {
        crate::c_name::c_type_name(self, id)
    }

    /// [`Btf::c_type_name`] without `const`/`volatile`/`restrict`/type tags on
    /// the type or its array elements, as ecc writes variable types:
    /// `char[16]` for `const volatile char[16]`.
    pub fn unqualified_c_type_name(&self, id: u32) -> String {
        crate::c_name::unqualified_c_type_name(self, id)
    }

    /// Raw BTF, little-endian, 24-byte header (32 bytes with the layout section if the input had one).
    pub fn to_bytes(&self) -> Vec<u8> {
        let type_len = self.types.len() as u32;
        let str_len = self.strings.len() as u32;
        let mut out =
            Vec::with_capacity(LAYOUT_HEADER_LEN + type_len as usize + str_len as usize + 64);
        if self.layout_bytes().is_empty() {
            write_header(&mut out, type_len, str_len);
        } else {
            let layout_len = self.layout.len() as u32;
            out.extend_from_slice(&MAGIC.to_le_bytes());
            out.extend_from_slice(&[1, 0]);
            for v in [
                LAYOUT_HEADER_LEN as u32,
                0,
                type_len,
                type_len + layout_len,
                str_len,
                type_len,
                layout_len,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        debug_assert!(out.len() >= BASE_HEADER_LEN);
        out.extend_from_slice(self.type_bytes());
        out.extend_from_slice(self.layout_bytes());
        out.extend_from_slice(self.strings());
        out
    }

    // ---- crate-internal raw access ----

    /// The record of a type; id 0 gives the all-zero void record.
    #[inline]
    pub(crate) fn raw(&self, id: u32) -> Option<Raw<'_>> {
        if id == 0 {
            return Some(void_raw());
        }
        let start = *self.offsets.get(id as usize)? as usize * 4;
        let end = self
            .offsets
            .get(id as usize + 1)
            .map_or(self.types.len(), |&e| e as usize * 4);
        self.type_bytes()
            .get(start..end)
            .map(|b| Raw { w: Words(b) })
    }

    /// Raw kind of a type (0 for void and bad ids), without touching the record.
    #[inline]
    pub(crate) fn raw_kind(&self, id: u32) -> u8 {
        self.kinds.get(id as usize).copied().unwrap_or(0)
    }

    /// Raw kind of every type id, in id order (`[0]` is void).
    #[inline]
    pub(crate) fn raw_kinds(&self) -> &[u8] {
        &self.kinds
    }

    /// Name offset of a type, read straight from its record (0 for void and bad ids).
    #[inline]
    pub(crate) fn name_off_of(&self, id: u32) -> u32 {
        let Some(&word) = self.offsets.get(id as usize) else {
            return 0;
        };
        Words(self.type_bytes()).at(word as usize)
    }

    /// The record of a type, or the void record for bad ids (ids are validated at parse time).
    #[inline]
    pub(crate) fn raw_or_void(&self, id: u32) -> Raw<'_> {
        self.raw(id).unwrap_or_else(void_raw)
    }

    /// The bytes of the string at `off`.
    #[inline]
    pub(crate) fn str_bytes(&self, off: u32) -> &[u8] {
        bytes_at(self.strings(), off)
    }

    /// The string at `off`.
    #[inline]
    pub(crate) fn str_at(&self, off: u32) -> &str {
        str_at(self.strings(), off)
    }

    /// The whole string section.
    pub(crate) fn strings(&self) -> &[u8] {
        self.data.get(self.strings.clone()).unwrap_or(&[])
    }

    /// The type section (little-endian words).
    pub(crate) fn type_bytes(&self) -> &[u8] {
        self.data.get(self.types.clone()).unwrap_or(&[])
    }

    /// The layout section (empty if none).
    fn layout_bytes(&self) -> &[u8] {
        self.data.get(self.layout.clone()).unwrap_or(&[])
    }

    /// Port of libbpf's `skip_mods_and_typedefs`: (resolved id, its record).
    #[inline]
    pub(crate) fn skip_mods_and_typedefs(&self, mut id: u32) -> (u32, Raw<'_>) {
        let mut t = self.raw_or_void(id);
        // Bounded: validated BTF has no modifier cycles, so a chain is at most type_count long.
        for _ in 0..self.offsets.len() {
            if !is_mod_or_typedef(t.kind()) {
                break;
            }
            id = t.size_or_type();
            t = self.raw_or_void(id);
        }
        (id, t)
    }

    /// Port of libbpf's `btf__resolve_size` (depth limit 32, 8-byte pointers).
    pub(crate) fn resolve_size(&self, mut id: u32) -> Option<u64> {
        let mut nelems: u64 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.raw(id)?;
            let size = match t.kind() {
                k::UNKN => return None,
                k::INT | k::STRUCT | k::UNION | k::ENUM | k::ENUM64 | k::DATASEC | k::FLOAT => {
                    u64::from(t.size_or_type())
                }
                k::PTR => 8,
                k::TYPEDEF
                | k::VOLATILE
                | k::CONST
                | k::RESTRICT
                | k::VAR
                | k::DECL_TAG
                | k::TYPE_TAG => {
                    id = t.size_or_type();
                    continue;
                }
                k::ARRAY => {
                    let (elem, _, n) = t.array();
                    if n != 0 && nelems > u64::from(u32::MAX) / u64::from(n) {
                        return None;
                    }
                    nelems *= u64::from(n);
                    id = elem;
                    continue;
                }
                _ => return None,
            };
            if nelems != 0 && size > u64::from(u32::MAX) / nelems {
                return None;
            }
            return Some(nelems * size);
        }
        None
    }
}

/// TYPEDEF, VOLATILE, CONST, RESTRICT or TYPE_TAG.
#[inline]
pub(crate) fn is_mod_or_typedef(kind: u8) -> bool {
    matches!(
        kind,
        k::TYPEDEF | k::VOLATILE | k::CONST | k::RESTRICT | k::TYPE_TAG
    )
}

#[cfg(test)]
#[path = "btf_tests.rs"]
pub(crate) mod tests;
