//! One-pass indexing and validation of a raw BTF blob.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::header::{Endian, Header};
use crate::kind::{extra_words, id_slots, info_kind, info_vlen, k, kind_name, name_slots};
use crate::raw::Words;
use crate::strings;

/// Largest type id BTF allows (`BTF_MAX_TYPE`).
pub(crate) const MAX_TYPE_ID: usize = 0x000f_ffff;

/// The validated content of a BTF blob, kept in the input buffer (type words little-endian).
pub(crate) struct Parsed {
    pub data: Vec<u8>,
    pub types: Range<usize>,
    pub strings: Range<usize>,
    pub layout: Range<usize>,
    /// Word index (relative to `types`) of each type id; `[0]` is unused.
    pub offsets: Vec<u32>,
    pub kinds: Vec<u8>,
    pub endian: Endian,
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

/// Parses and validates everything, taking ownership of the buffer (no copy for
/// little-endian input; big-endian type words are swapped in place).
pub(crate) fn parse(mut data: Vec<u8>) -> Result<Parsed> {
    let hdr = Header::parse(&data)?;
    strings::validate(&data[hdr.strings.clone()])?;
    if hdr.endian == Endian::Big {
        for w in data[hdr.types.clone()].chunks_exact_mut(4) {
            w.reverse();
        }
    }
    let layout_range = hdr.layout.clone().unwrap_or(0..0);
    let layout = &data[layout_range.clone()];
    let words = Words(&data[hdr.types.clone()]);
    let str_len = hdr.strings.len();

    let n = words.len();
    let mut offsets: Vec<u32> = Vec::with_capacity(n / 4 + 1);
    offsets.push(u32::MAX); // id 0 = void
    let mut kinds: Vec<u8> = Vec::with_capacity(n / 4 + 1);
    kinds.push(k::UNKN);
    // Cycle-check state per id, settled here when every contained type has a smaller id and
    // is settled (most types); the rest go through a depth-first search afterwards.
    let mut cycle_state: Vec<u8> = Vec::with_capacity(n / 4 + 1);
    cycle_state.push(DONE);
    let mut max_ref = 0u32;
    let mut max_name = 0u32;
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
        let info = words.at(pos + 1);
        let (kind, vlen) = (info_kind(info), info_vlen(info));
        let known = extra_words(kind, vlen);
        let extra = match known {
            Some(e) => e,
            None => layout_words(layout, kind, vlen, type_id)?,
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
        let rec = words.sub(pos, pos + len);
        let (max_n, max_r, settled) = scan_record(rec, kind, known.is_some(), &cycle_state);
        max_name = max_name.max(max_n);
        max_ref = max_ref.max(max_r);
        if kind == k::INT || kind == k::DECL_TAG {
            check_kind(rec, kind, type_id)?;
        }
        cycle_state.push(if settled { DONE } else { UNSEEN });
        offsets.push(pos as u32);
        kinds.push(kind);
        pos += len;
    }
    let count = offsets.len() as u32;
    if max_name != 0 && max_name as usize >= str_len {
        return Err(first_bad_name(words, &offsets, str_len));
    }
    if max_ref >= count {
        return Err(first_bad_ref(words, &offsets, count));
    }
    check_value_cycles(words, &offsets, &kinds, cycle_state)?;
    Ok(Parsed {
        types: hdr.types,
        strings: hdr.strings,
        layout: layout_range,
        offsets,
        kinds,
        endian: hdr.endian,
        data,
    })
}

#[inline(always)]
fn le(c: &[u8], i: usize) -> u32 {
    match c.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Max of the u32 at byte `name_at` (string offsets) and at `id_at` (type ids) over records
/// of `stride` bytes; `None` skips that field.
#[inline(always)]
fn fold_max(
    tail: &[u8],
    stride: usize,
    name_at: Option<usize>,
    id_at: Option<usize>,
) -> (u32, u32) {
    let (mut n, mut r) = (0u32, 0u32);
    for c in tail.chunks_exact(stride) {
        if let Some(i) = name_at {
            n = n.max(le(c, i));
        }
        if let Some(i) = id_at {
            r = r.max(le(c, i));
        }
    }
    (n, r)
}

/// One pass over a record (the hot loop): its largest string offset, its largest referenced
/// type id, and whether every type it contains by value is already settled in the cycle check.
#[inline]
fn scan_record(rec: Words<'_>, kind: u8, known: bool, state: &[u8]) -> (u32, u32, bool) {
    let settled = |id: u32| state.get(id as usize) == Some(&DONE);
    let head_name = rec.at(0);
    if !known {
        return (head_name, 0, true);
    }
    let tail = rec.0.get(12..).unwrap_or(&[]);
    let (n, r, ok) = match kind {
        k::STRUCT | k::UNION => {
            let (mut n, mut r, mut ok) = (0u32, 0u32, true);
            for c in tail.chunks_exact(12) {
                let t = le(c, 4);
                n = n.max(le(c, 0));
                r = r.max(t);
                ok &= settled(t);
            }
            (n, r, ok)
        }
        k::ENUM64 => {
            let (n, _) = fold_max(tail, 12, Some(0), None);
            (n, 0, true)
        }
        k::DATASEC => {
            let (_, r) = fold_max(tail, 12, None, Some(0));
            (0, r, true)
        }
        k::ENUM => {
            let (n, _) = fold_max(tail, 8, Some(0), None);
            (n, 0, true)
        }
        k::FUNC_PROTO => {
            let (n, r) = fold_max(tail, 8, Some(0), Some(4));
            (n, r.max(rec.at(2)), true)
        }
        k::ARRAY => (0, rec.at(3).max(rec.at(4)), settled(rec.at(3))),
        k::TYPEDEF | k::VOLATILE | k::CONST | k::RESTRICT | k::TYPE_TAG => {
            (0, rec.at(2), settled(rec.at(2)))
        }
        k::PTR | k::FUNC | k::VAR | k::DECL_TAG => (0, rec.at(2), true),
        _ => (0, 0, true),
    };
    (n.max(head_name), r, ok)
}

fn record<'a>(words: Words<'a>, offsets: &[u32], id: usize) -> Words<'a> {
    let start = offsets.get(id).map_or(0, |&o| o as usize);
    Words(words.0.get(start * 4..).unwrap_or(&[]))
}

fn first_bad_name(words: Words<'_>, offsets: &[u32], str_len: usize) -> Error {
    for id in 1..offsets.len() {
        let rec = record(words, offsets, id);
        let (kind, vlen) = (info_kind(rec.at(1)), info_vlen(rec.at(1)));
        let slots = if extra_words(kind, vlen).is_some() {
            name_slots(kind, vlen)
        } else {
            name_slots(k::INT, 0)
        };
        for s in slots {
            let off = rec.at(s);
            if off != 0 && off as usize >= str_len {
                return Error::StringOffset {
                    type_id: id as u32,
                    offset: off,
                    len: str_len,
                };
            }
        }
    }
    Error::BadStrings("string offset out of range".into())
}

fn check_kind(rec: Words<'_>, kind: u8, type_id: u32) -> Result<()> {
    let bad = |msg: String| Error::BadType {
        type_id,
        kind: kind_name(kind),
        msg,
    };
    match kind {
        k::INT => {
            let size = rec.at(2);
            if !matches!(size, 1 | 2 | 4 | 8 | 16) {
                return Err(bad(format!("size {size} is not 1, 2, 4, 8 or 16")));
            }
            let data = rec.at(3);
            let bits = data & 0xff;
            let off = (data >> 16) & 0xff;
            if bits > 128 || off + bits > size * 8 {
                return Err(bad(format!(
                    "{bits} bits at offset {off} do not fit {size} bytes"
                )));
            }
        }
        k::DECL_TAG if (rec.at(3) as i32) < -1 => {
            return Err(bad(format!("component index {}", rec.at(3) as i32)));
        }
        _ => {}
    }
    Ok(())
}

fn first_bad_ref(words: Words<'_>, offsets: &[u32], count: u32) -> Error {
    for id in 1..offsets.len() {
        let rec = record(words, offsets, id);
        let (kind, vlen) = (info_kind(rec.at(1)), info_vlen(rec.at(1)));
        if extra_words(kind, vlen).is_none() {
            continue;
        }
        for s in id_slots(kind, vlen) {
            if rec.at(s) >= count {
                return Error::TypeIdOutOfRange {
                    type_id: id as u32,
                    kind: kind_name(kind),
                    target: rec.at(s),
                    count,
                };
            }
        }
    }
    Error::BadLayout("type id out of range".into())
}

/// Cycle-check states.
const UNSEEN: u8 = 0;
const ON_PATH: u8 = 1;
const DONE: u8 = 2;

/// Children a type contains by value: (count, absolute word index of the first, stride).
#[inline]
fn value_children(words: Words<'_>, offsets: &[u32], id: u32) -> (u32, usize, usize) {
    let base = offsets.get(id as usize).map_or(0, |&o| o as usize);
    let info = words.at(base + 1);
    let (kind, vlen) = (info_kind(info), info_vlen(info));
    match kind {
        k::ARRAY => (1, base + 3, 0),
        k::STRUCT | k::UNION => (vlen, base + 4, 3),
        kind if is_mod_or_typedef(kind) => (1, base + 2, 0),
        _ => (0, 0, 0),
    }
}

/// Rejects types that contain themselves by value (typedef/modifier loops, a struct holding
/// itself, an array of itself), so that resolving and sizing always terminate.
/// Iterative depth-first search, O(types + members).
fn check_value_cycles(
    words: Words<'_>,
    offsets: &[u32],
    kinds: &[u8],
    mut state: Vec<u8>,
) -> Result<()> {
    struct Frame {
        id: u32,
        left: u32,
        slot: usize,
        stride: usize,
    }
    let kind_of = |id: u32| kinds.get(id as usize).copied().unwrap_or(k::UNKN);
    let frame = |id: u32| {
        let (left, slot, stride) = value_children(words, offsets, id);
        Frame {
            id,
            left,
            slot,
            stride,
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    for start in 1..offsets.len() as u32 {
        if state[start as usize] != UNSEEN {
            continue;
        }
        state[start as usize] = ON_PATH;
        stack.push(frame(start));
        while let Some(top) = stack.last_mut() {
            if top.left == 0 {
                state[top.id as usize] = DONE;
                stack.pop();
                continue;
            }
            let child = words.at(top.slot);
            top.left -= 1;
            top.slot += top.stride;
            let parent = top.id;
            match state.get(child as usize).copied() {
                Some(UNSEEN) => {
                    state[child as usize] = ON_PATH;
                    stack.push(frame(child));
                }
                Some(ON_PATH) => {
                    return Err(Error::BadType {
                        type_id: child,
                        kind: kind_name(kind_of(child)),
                        msg: format!("contains itself by value (via type [{parent}])"),
                    })
                }
                _ => {}
            }
        }
    }
    Ok(())
}
