//! `.BTF.ext`: the CO-RE relocation records, per ELF section (program).

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::header::{read_u32, Endian};

/// Size of `struct bpf_core_relo`.
const CORE_RELO_MIN: usize = 16;
/// Largest record size accepted (cilium/ebpf's bound).
const RECORD_MAX: usize = 256;

/// One CO-RE relocation record (`struct bpf_core_relo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the instruction within its section.
    pub insn_off: u32,
    /// Local (object) BTF id of the root type.
    pub type_id: u32,
    /// Offset of the access string in the object's BTF strings.
    pub access_str_off: u32,
    /// Raw relocation kind (`enum bpf_core_relo_kind`).
    pub kind: u32,
}

impl CoreRelo {
    /// Instruction index (`insn_off / 8`).
    pub fn insn_index(&self) -> u32 {
        self.insn_off / 8
    }
}

/// The CO-RE relocations of one ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocSection {
    /// Section (program) name, e.g. `tracepoint/syscalls/sys_enter_execve`.
    pub name: String,
    /// Records in file order.
    pub relos: Vec<CoreRelo>,
}

/// Parses the CO-RE part of a `.BTF.ext` section; names resolve against the object's `btf`.
pub(crate) fn parse_core_relos(data: &[u8], btf: &Btf) -> Result<Vec<RelocSection>> {
    let endian = Endian::detect(data)
        .ok_or_else(|| Error::BadExt(format!("bad magic {:02x?}", data.get(..2).unwrap_or(&[]))))?;
    let r = |off: usize| read_u32(data, off, endian, ".BTF.ext");
    if data.get(2) != Some(&1) {
        return Err(Error::BadExt(format!(
            "unsupported version {:?} (expected 1)",
            data.get(2)
        )));
    }
    let hdr_len = r(4)? as usize;
    if hdr_len < 24 || hdr_len > data.len() {
        return Err(Error::BadExt(format!(
            "header length {hdr_len} outside [24, {}]",
            data.len()
        )));
    }
    if hdr_len < 32 {
        return Ok(Vec::new()); // no CO-RE relocation info
    }
    let (off, len) = (r(24)? as usize, r(28)? as usize);
    if len == 0 {
        return Ok(Vec::new());
    }
    let start = hdr_len + off;
    let end = start + len;
    let sec = data.get(start..end).ok_or_else(|| {
        Error::BadExt(format!(
            "CO-RE relocation info [{start}, {end}) extends past the section ({} bytes)",
            data.len()
        ))
    })?;
    let rs = |o: usize| read_u32(sec, o, endian, ".BTF.ext CO-RE info");
    let record_size = rs(0)? as usize;
    if !(CORE_RELO_MIN..=RECORD_MAX).contains(&record_size) || record_size % 4 != 0 {
        return Err(Error::BadExt(format!(
            "CO-RE record size {record_size} is not a multiple of 4 in [{CORE_RELO_MIN}, {RECORD_MAX}]"
        )));
    }
    let mut out = Vec::new();
    let mut pos = 4;
    while pos < sec.len() {
        let name_off = rs(pos)?;
        let num = rs(pos + 4)? as usize;
        pos += 8;
        if name_off as usize >= btf.strings().len() {
            return Err(Error::BadExt(format!(
                "section name offset {name_off} outside the BTF string section ({} bytes)",
                btf.strings().len()
            )));
        }
        let name = btf.str_at(name_off).to_string();
        let bytes = num
            .checked_mul(record_size)
            .filter(|&b| b <= sec.len() - pos);
        let Some(bytes) = bytes else {
            return Err(Error::BadExt(format!(
                "section '{name}': {num} records of {record_size} bytes exceed the remaining {} bytes",
                sec.len() - pos
            )));
        };
        let mut relos = Vec::with_capacity(num);
        for i in 0..num {
            let b = pos + i * record_size;
            relos.push(CoreRelo {
                insn_off: rs(b)?,
                type_id: rs(b + 4)?,
                access_str_off: rs(b + 8)?,
                kind: rs(b + 12)?,
            });
        }
        pos += bytes;
        out.push(RelocSection { name, relos });
    }
    Ok(out)
}
