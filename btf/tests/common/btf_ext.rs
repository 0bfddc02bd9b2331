//! A minimal, independent reader of the CO-RE records in an object's `.BTF.ext`, used to check
//! which relocation kinds the test objects contain and to rewrite kinds that clang 14 cannot
//! emit (TYPE_MATCHES). Test inputs only: it panics on malformed data.

use object::{Object, ObjectSection};

/// Where one CO-RE record is in the ELF file, and its kind.
#[derive(Clone, Copy, Debug)]
pub struct CoreRelo {
    /// File offset of the 16-byte record.
    pub file_offset: usize,
    /// Local type id of the root type.
    pub type_id: u32,
    /// Offset of the access string in the `.BTF` strings.
    pub access_str_off: u32,
    /// `enum bpf_core_relo_kind`.
    pub kind: u32,
}

/// Names of the relocation kinds, indexed by kind number.
pub const KIND_NAMES: [&str; 13] = [
    "FIELD_BYTE_OFFSET",
    "FIELD_BYTE_SIZE",
    "FIELD_EXISTS",
    "FIELD_SIGNED",
    "FIELD_LSHIFT_U64",
    "FIELD_RSHIFT_U64",
    "TYPE_ID_LOCAL",
    "TYPE_ID_TARGET",
    "TYPE_EXISTS",
    "TYPE_SIZE",
    "ENUMVAL_EXISTS",
    "ENUMVAL_VALUE",
    "TYPE_MATCHES",
];

fn u32_at(b: &[u8], off: usize) -> u32 {
    let bytes: [u8; 4] = b
        .get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .unwrap_or_else(|| panic!("test object: .BTF.ext truncated at file offset {off}"));
    u32::from_le_bytes(bytes)
}

/// Every CO-RE record of a little-endian object (empty when it has no `.BTF.ext` or no CO-RE
/// subsection).
pub fn core_relos(elf: &[u8]) -> Vec<CoreRelo> {
    let file =
        object::File::parse(elf).unwrap_or_else(|e| panic!("test object is not an ELF: {e}"));
    let Some((start, len)) = file
        .section_by_name(".BTF.ext")
        .and_then(|s| s.file_range())
    else {
        return Vec::new();
    };
    let start = start as usize;
    let end = start + len as usize;
    let hdr_len = u32_at(elf, start + 4) as usize;
    if hdr_len < 32 {
        return Vec::new();
    }
    let core_off = u32_at(elf, start + 24) as usize;
    let core_len = u32_at(elf, start + 28) as usize;
    let sub = start + hdr_len + core_off;
    let sub_end = (sub + core_len).min(end);
    if core_len == 0 {
        return Vec::new();
    }
    let rec_size = u32_at(elf, sub) as usize;
    let mut relos = Vec::new();
    let mut pos = sub + 4;
    while pos + 8 <= sub_end {
        let num = u32_at(elf, pos + 4) as usize;
        pos += 8;
        for _ in 0..num {
            relos.push(CoreRelo {
                file_offset: pos,
                type_id: u32_at(elf, pos + 4),
                access_str_off: u32_at(elf, pos + 8),
                kind: u32_at(elf, pos + 12),
            });
            pos += rec_size;
        }
    }
    relos
}

/// Rewrite every relocation of kind `from` to kind `to`; returns how many were rewritten.
pub fn rewrite_kind(elf: &mut [u8], from: u32, to: u32) -> usize {
    let relos = core_relos(elf);
    let mut n = 0;
    for r in relos.iter().filter(|r| r.kind == from) {
        let at = r.file_offset + 12;
        elf[at..at + 4].copy_from_slice(&to.to_le_bytes());
        n += 1;
    }
    n
}

/// File range (start, end) of a named ELF section.
pub fn section_range(elf: &[u8], name: &str) -> Option<(usize, usize)> {
    let file = object::File::parse(elf).ok()?;
    let (start, len) = file.section_by_name(name)?.file_range()?;
    Some((start as usize, (start + len) as usize))
}

/// File offset of the CO-RE subsection (its `record_size` u32) of `.BTF.ext`.
pub fn core_subsection_offset(elf: &[u8]) -> Option<usize> {
    let (start, _) = section_range(elf, ".BTF.ext")?;
    let hdr_len = u32_at(elf, start + 4) as usize;
    if hdr_len < 32 {
        return None;
    }
    Some(start + hdr_len + u32_at(elf, start + 24) as usize)
}

/// Overwrite a little-endian u32 at a file offset.
pub fn put_u32(elf: &mut [u8], at: usize, v: u32) {
    elf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
