//! One-pass indexing and validation of a raw BTF blob.

use crate::error::{Error, Result};
use crate::header::{Endian, Header};
use crate::kind::{extra_words, id_slots, info_kind, info_vlen, k, kind_name, name_slots};
use crate::strings;

/// Largest type id BTF allows (`BTF_MAX_TYPE`).
pub(crate) const MAX_TYPE_ID: usize = 0x000f_ffff;

/// The validated, native-endian content of a BTF blob.
pub(crate) struct Parsed {
    pub words: Vec<u32>,
    pub offsets: Vec<u32>,
    pub strings: Vec<u8>,
    pub layout: Vec<u8>,
    pub endian: Endian,
}

fn to_words(bytes: &[u8], endian: Endian) -> Vec<u32> {
    let chunks = bytes.chunks_exact(4);
    match endian {
        Endian::Little => chunks
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Endian::Big => chunks
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    }
}

/// Record length in words of a kind unknown to this crate, from the layout section.
fn layout_words(layout: &[u8], kind: u8, vlen: u32, type_id: u32) -> Result<usize> {
    let entry = layout
        .get(usize::from(kind) * 4..usize::from(kind) * 4 + 4)
        .ok_or(Error::UnknownKind { type_id, kind })?;
    let (info_sz, elem_sz) = (usize::from(entry[0]), usize::from(entry[1]));
    let bytes = info_sz + elem_sz * vlen as usize;
    if bytes % 4 != 0 {
        return Err(Error::BadType {
            type_id,
            kind: "UNKNOWN",
            msg: format!("layout gives a record tail of {bytes} bytes, not a multiple of 4"),
        });
    }
    Ok(bytes / 4)
}

#[inline]
fn is_mod_or_typedef(kind: u8) -> bool {
    matches!(
        kind,
        k::TYPEDEF | k::VOLATILE | k::CONST | k::RESTRICT | k::TYPE_TAG
    )
}

/// Parses and validates everything; afterwards accessors need no checks.
pub(crate) fn parse(data: &[u8]) -> Result<Parsed> {
    let hdr = Header::parse(data)?;
    let strings = data[hdr.strings.clone()].to_vec();
    strings::validate(&strings)?;
    let layout = hdr
        .layout
        .clone()
        .map(|r| data[r].to_vec())
        .unwrap_or_default();
    let words = to_words(&data[hdr.types.clone()], hdr.endian);

    let n = words.len();
    let mut offsets: Vec<u32> = Vec::with_capacity(n / 4 + 1);
    offsets.push(u32::MAX); // id 0 = void
    let str_len = strings.len();
    let mut max_ref = 0u32;
    let mut pos = 0usize;
    while pos < n {
        let type_id = offsets.len() as u32;
        if offsets.len() > MAX_TYPE_ID {
            return Err(Error::TooManyTypes(offsets.len()));
        }
        let left = n - pos;
        if left < 3 {
            return Err(Error::TypeTruncated {
                type_id,
                kind: "?",
                need: 12,
                have: left * 4,
            });
        }
        let info = words[pos + 1];
        let (kind, vlen) = (info_kind(info), info_vlen(info));
        let known = extra_words(kind, vlen);
        let extra = match known {
            Some(e) => e,
            None => layout_words(&layout, kind, vlen, type_id)?,
        };
        let len = 3 + extra;
        if len > left {
            return Err(Error::TypeTruncated {
                type_id,
                kind: kind_name(kind),
                need: len * 4,
                have: left * 4,
            });
        }
        let rec = &words[pos..pos + len];
        let check_str = |off: u32| {
            if off != 0 && off as usize >= str_len {
                Err(Error::StringOffset {
                    type_id,
                    offset: off,
                    len: str_len,
                })
            } else {
                Ok(())
            }
        };
        if known.is_some() {
            for s in name_slots(kind, vlen) {
                check_str(rec[s])?;
            }
            for s in id_slots(kind, vlen) {
                max_ref = max_ref.max(rec[s]);
            }
            check_kind(rec, kind, type_id)?;
        } else {
            check_str(rec[0])?;
        }
        offsets.push(pos as u32);
        pos += len;
    }
    let count = offsets.len() as u32;
    if max_ref >= count {
        return Err(first_bad_ref(&words, &offsets, count));
    }
    check_modifier_cycles(&words, &offsets)?;
    Ok(Parsed {
        words,
        offsets,
        strings,
        layout,
        endian: hdr.endian,
    })
}

fn check_kind(rec: &[u32], kind: u8, type_id: u32) -> Result<()> {
    let bad = |msg: String| Error::BadType {
        type_id,
        kind: kind_name(kind),
        msg,
    };
    match kind {
        k::INT => {
            let data = rec[3];
            let bits = data & 0xff;
            let off = (data >> 16) & 0xff;
            if bits > 128 || u64::from(off + bits) > u64::from(rec[2]) * 8 {
                return Err(bad(format!(
                    "{bits} bits at offset {off} do not fit {} bytes",
                    rec[2]
                )));
            }
        }
        k::DECL_TAG if (rec[3] as i32) < -1 => {
            return Err(bad(format!("component index {}", rec[3] as i32)));
        }
        _ => {}
    }
    Ok(())
}

fn first_bad_ref(words: &[u32], offsets: &[u32], count: u32) -> Error {
    for (id, &off) in offsets.iter().enumerate().skip(1) {
        let rec = &words[off as usize..];
        let (kind, vlen) = (info_kind(rec[1]), info_vlen(rec[1]));
        if extra_words(kind, vlen).is_none() {
            continue;
        }
        for s in id_slots(kind, vlen) {
            if rec[s] >= count {
                return Error::TypeIdOutOfRange {
                    type_id: id as u32,
                    kind: kind_name(kind),
                    target: rec[s],
                    count,
                };
            }
        }
    }
    Error::BadLayout("type id out of range".into())
}

/// Rejects typedef/modifier cycles so that resolving them always terminates.
fn check_modifier_cycles(words: &[u32], offsets: &[u32]) -> Result<()> {
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let kind_target = |id: u32| -> (u8, u32) {
        let off = offsets[id as usize] as usize;
        (info_kind(words[off + 1]), words[off + 2])
    };
    let mut state = vec![UNSEEN; offsets.len()];
    for start in 1..offsets.len() as u32 {
        if state[start as usize] != UNSEEN || !is_mod_or_typedef(kind_target(start).0) {
            continue;
        }
        let mut cur = start;
        while cur != 0 && state[cur as usize] == UNSEEN {
            let (kind, target) = kind_target(cur);
            if !is_mod_or_typedef(kind) {
                break;
            }
            state[cur as usize] = ON_PATH;
            cur = target;
        }
        if cur != 0 && state[cur as usize] == ON_PATH {
            return Err(Error::TooDeep {
                type_id: cur,
                limit: offsets.len() as u32,
            });
        }
        let mut cur = start;
        while cur != 0 && state[cur as usize] == ON_PATH {
            state[cur as usize] = DONE;
            cur = kind_target(cur).1;
        }
    }
    Ok(())
}
