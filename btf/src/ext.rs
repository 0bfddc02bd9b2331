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

/// One `btf_ext_info_sec` subsection: its record size and (section name, records) groups.
struct InfoSec<'d> {
    record_size: usize,
    groups: Vec<(String, &'d [u8], usize)>,
}

/// Port of libbpf's `btf_ext_parse_sec_info` checks for one info subsection.
fn parse_info_sec<'d>(
    data: &'d [u8],
    hdr_len: usize,
    (off, len): (u32, u32),
    min_rec: usize,
    desc: &str,
    endian: Endian,
    btf: &Btf,
) -> Result<Option<InfoSec<'d>>> {
    if len == 0 {
        return Ok(None);
    }
    if off % 4 != 0 {
        return Err(Error::BadExt(format!(
            "{desc} offset {off} is not 4-byte aligned"
        )));
    }
    let start = hdr_len + off as usize;
    let end = start + len as usize;
    let sec = data.get(start..end).ok_or_else(|| {
        Error::BadExt(format!(
            "{desc} [{start}, {end}) extends past the section ({} bytes)",
            data.len()
        ))
    })?;
    let rs = |o: usize| read_u32(sec, o, endian, ".BTF.ext info");
    let record_size = rs(0)? as usize;
    if record_size < min_rec || record_size % 4 != 0 || record_size > RECORD_MAX {
        return Err(Error::BadExt(format!(
            "{desc} record size {record_size} is not a multiple of 4 in [{min_rec}, {RECORD_MAX}]"
        )));
    }
    let mut groups = Vec::new();
    let mut pos = 4;
    while pos < sec.len() {
        if sec.len() - pos < 8 {
            return Err(Error::BadExt(format!(
                "{desc}: truncated section header at {pos}"
            )));
        }
        let name_off = rs(pos)?;
        let num = rs(pos + 4)? as usize;
        pos += 8;
        if num == 0 {
            return Err(Error::BadExt(format!("{desc}: a section has 0 records")));
        }
        if name_off as usize >= btf.strings().len() {
            return Err(Error::BadExt(format!(
                "{desc}: section name offset {name_off} outside the BTF string section ({} bytes)",
                btf.strings().len()
            )));
        }
        let name = btf.str_at(name_off).to_string();
        let bytes = num
            .checked_mul(record_size)
            .filter(|&b| b <= sec.len() - pos)
            .ok_or_else(|| {
                Error::BadExt(format!(
                    "{desc}: section '{name}': {num} records of {record_size} bytes exceed the remaining {} bytes",
                    sec.len() - pos
                ))
            })?;
        groups.push((name, &sec[pos..pos + bytes], num));
        pos += bytes;
    }
    Ok(Some(InfoSec {
        record_size,
        groups,
    }))
}

/// Parses a `.BTF.ext` section (checking func/line info like libbpf) and returns its CO-RE
/// relocations; section names resolve against the object's `btf`.
pub(crate) fn parse_core_relos(data: &[u8], btf: &Btf) -> Result<Vec<RelocSection>> {
    let endian = Endian::detect(data)
        .ok_or_else(|| Error::BadExt(format!("bad magic {:02x?}", data.get(..2).unwrap_or(&[]))))?;
    let r = |off: usize| read_u32(data, off, endian, ".BTF.ext header");
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
    parse_info_sec(data, hdr_len, (r(8)?, r(12)?), 8, "func_info", endian, btf)?;
    parse_info_sec(
        data,
        hdr_len,
        (r(16)?, r(20)?),
        16,
        "line_info",
        endian,
        btf,
    )?;
    if hdr_len < 32 {
        return Ok(Vec::new()); // no CO-RE relocation info
    }
    let Some(core) = parse_info_sec(
        data,
        hdr_len,
        (r(24)?, r(28)?),
        CORE_RELO_MIN,
        "core_relo",
        endian,
        btf,
    )?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(core.groups.len());
    for (name, recs, num) in core.groups {
        let rs = |o: usize| read_u32(recs, o, endian, ".BTF.ext CO-RE record");
        let mut relos = Vec::with_capacity(num);
        for i in 0..num {
            let b = i * core.record_size;
            relos.push(CoreRelo {
                insn_off: rs(b)?,
                type_id: rs(b + 4)?,
                access_str_off: rs(b + 8)?,
                kind: rs(b + 12)?,
            });
        }
        out.push(RelocSection { name, relos });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::BtfBuilder;

    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// A .BTF.ext with empty func/line info and one CO-RE section of `n` records.
    fn ext(sec_name: u32, record_size: u32, n: u32) -> Vec<u8> {
        let mut core = vec![record_size, sec_name, n];
        for i in 0..n {
            core.extend([i * 8, 1, 0, 0]);
            core.extend(std::iter::repeat_n(
                0,
                (record_size as usize).saturating_sub(16) / 4,
            ));
        }
        let core = le(&core);
        let mut out = vec![0x9f, 0xeb, 1, 0];
        out.extend(le(&[32, 0, 0, 0, 0, 0, core.len() as u32]));
        out.extend(core);
        out
    }

    fn btf() -> (Btf, u32) {
        let mut b = BtfBuilder::new();
        let name = b.add_str("kprobe/foo");
        b.add_int("int", 4, Default::default());
        (b.build().unwrap(), name)
    }

    #[test]
    fn parses_sections_and_larger_records() {
        let (btf, name) = btf();
        for record_size in [16, 24] {
            let secs = parse_core_relos(&ext(name, record_size, 3), &btf).unwrap();
            assert_eq!(secs.len(), 1);
            assert_eq!(secs[0].name, "kprobe/foo");
            let insns: Vec<u32> = secs[0].relos.iter().map(|r| r.insn_index()).collect();
            assert_eq!(insns, [0, 1, 2]);
        }
    }

    #[test]
    fn rejects_bad_records_without_panicking() {
        let (btf, name) = btf();
        let good = ext(name, 16, 2);
        for len in 0..good.len() {
            assert!(
                parse_core_relos(&good[..len], &btf).is_err(),
                "prefix {len} accepted"
            );
        }
        for bad in [
            ext(name, 12, 1),
            ext(name, 4096, 0),
            ext(999, 16, 1),
            ext(name, 16, 0),
        ] {
            assert!(parse_core_relos(&bad, &btf).is_err());
        }
        let mut huge = good.clone();
        huge[32 + 8..32 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(parse_core_relos(&huge, &btf).is_err());
    }
}
