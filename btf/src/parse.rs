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
    let types = &data[hdr.types.clone()];
    let scan = scan_records(types, &data[layout_range.clone()])?;
    let words = Words(types);
    let str_len = hdr.strings.len();
    let count = scan.offsets.len() as u32;
    if scan.max_name != 0 && scan.max_name as usize >= str_len {
        return Err(first_bad_name(words, &scan.offsets, str_len));
    }
    if scan.max_ref >= count {
        return Err(first_bad_ref(words, &scan.offsets, count));
    }
    check_value_cycles(
        words,
        &scan.offsets,
        &scan.kinds,
        scan.state,
        &scan.unsettled,
    )?;
    Ok(Parsed {
        types: hdr.types,
        strings: hdr.strings,
        layout: layout_range,
        offsets: scan.offsets,
        kinds: scan.kinds,
        endian: hdr.endian,
        data,
    })
}

/// What one pass over the type records finds.
struct Scan {
    /// Word index of each type id's record; `[0]` (void) is unused.
    offsets: Vec<u32>,
    /// Raw kind of each type id.
    kinds: Vec<u8>,
    /// Largest string offset any record uses.
    max_name: u32,
    /// Largest type id any record references.
    max_ref: u32,
    /// Cycle-check state per id: [`DONE`] ("settled") when every type it holds by value has a
    /// smaller id and is settled, so no cycle can be reached from it; [`UNSEEN`] otherwise.
    state: Vec<u8>,
    /// The ids left [`UNSEEN`], in order: the cycle check searches only from these.
    unsettled: Vec<u32>,
}

/// Little-endian u32 at byte `i` (0 if out of range; callers pass in-range offsets).
#[inline(always)]
fn le(c: &[u8], i: usize) -> u32 {
    match c.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Largest u32 at byte `at` of each `stride`-byte element.
#[inline(always)]
fn max_at(body: &[u8], stride: usize, at: usize) -> u32 {
    body.chunks_exact(stride).fold(0, |m, c| m.max(le(c, at)))
}

/// Largest u32s at bytes 0 and 4 of each `stride`-byte element.
#[inline(always)]
fn max_at_0_4(body: &[u8], stride: usize) -> (u32, u32) {
    body.chunks_exact(stride)
        .fold((0, 0), |(n, r), c| (n.max(le(c, 0)), r.max(le(c, 4))))
}

/// The single pass over the type section (the hot loop): splits it into records, checks each
/// fits, validates INT and DECL_TAG fields and folds the largest string offset and type id.
fn scan_records(types: &[u8], layout: &[u8]) -> Result<Scan> {
    // Every record takes at least 12 bytes, so this bounds the number of ids; the tables are
    // filled by index (cheaper than pushing) and cut to the real count at the end.
    let slots = (types.len() / 12).min(MAX_TYPE_ID) + 1;
    let mut offsets: Vec<u32> = vec![0; slots];
    let mut kinds: Vec<u8> = vec![k::UNKN; slots];
    let mut state: Vec<u8> = vec![UNSEEN; slots];
    if let Some(void) = state.first_mut() {
        *void = DONE;
    }
    let mut unsettled: Vec<u32> = Vec::new();
    let (mut max_name, mut max_ref) = (0u32, 0u32);
    let mut id = 1usize;
    let mut rest = types;
    while !rest.is_empty() {
        let type_id = id as u32;
        let (Some(offset), Some(kind_slot)) = (offsets.get_mut(id), kinds.get_mut(id)) else {
            // Only reachable past MAX_TYPE_ID: `slots` covers every id a full record can have.
            return Err(Error::TooManyTypes(id));
        };
        let have = rest.len();
        let Some((head, tail)) = rest.split_first_chunk::<12>() else {
            return Err(Error::TypeTruncated {
                type_id,
                kind: "?",
                need: 12,
                have,
            });
        };
        let [n0, n1, n2, n3, i0, i1, i2, i3, s0, s1, s2, s3] = *head;
        let name = u32::from_le_bytes([n0, n1, n2, n3]);
        let info = u32::from_le_bytes([i0, i1, i2, i3]);
        let st = u32::from_le_bytes([s0, s1, s2, s3]);
        let (kind, vlen) = (info_kind(info), info_vlen(info) as usize);
        let split = |bytes: usize| {
            tail.split_at_checked(bytes)
                .ok_or_else(|| Error::TypeTruncated {
                    type_id,
                    kind: kind_name(kind),
                    need: 12 + bytes,
                    have,
                })
        };
        max_name = max_name.max(name);
        // A type not yet seen reads as UNSEEN (and ids past the end as unsettled).
        let is_settled = |id: u32| state.get(id as usize) == Some(&DONE);
        let mut settled = true;
        let next = match kind {
            k::STRUCT | k::UNION => {
                let (body, next) = split(12 * vlen)?;
                let (mut n, mut r) = (0u32, 0u32);
                for c in body.chunks_exact(12) {
                    let t = le(c, 4);
                    n = n.max(le(c, 0));
                    r = r.max(t);
                    settled &= is_settled(t);
                }
                max_name = max_name.max(n);
                max_ref = max_ref.max(r);
                next
            }
            k::TYPEDEF | k::VOLATILE | k::CONST | k::RESTRICT | k::TYPE_TAG => {
                max_ref = max_ref.max(st);
                settled = is_settled(st);
                tail
            }
            k::PTR | k::FUNC => {
                max_ref = max_ref.max(st);
                tail
            }
            k::FWD | k::FLOAT => tail,
            k::FUNC_PROTO => {
                let (body, next) = split(8 * vlen)?;
                let (n, r) = max_at_0_4(body, 8);
                max_name = max_name.max(n);
                max_ref = max_ref.max(r).max(st);
                next
            }
            k::ENUM => {
                let (body, next) = split(8 * vlen)?;
                max_name = max_name.max(max_at(body, 8, 0));
                next
            }
            k::ENUM64 => {
                let (body, next) = split(12 * vlen)?;
                max_name = max_name.max(max_at(body, 12, 0));
                next
            }
            k::DATASEC => {
                let (body, next) = split(12 * vlen)?;
                max_ref = max_ref.max(max_at(body, 12, 0));
                next
            }
            k::ARRAY => {
                let (body, next) = split(12)?;
                let (elem, index) = (le(body, 0), le(body, 4));
                max_ref = max_ref.max(elem).max(index);
                settled = is_settled(elem);
                next
            }
            k::INT | k::VAR | k::DECL_TAG => {
                let (body, next) = split(4)?;
                if kind == k::INT {
                    check_int(st, le(body, 0), type_id)?;
                } else {
                    max_ref = max_ref.max(st);
                    if kind == k::DECL_TAG {
                        check_decl_tag(le(body, 0), type_id)?;
                    }
                }
                next
            }
            _ => {
                let tail_words = layout_words(layout, kind, vlen as u32, type_id)?;
                split(tail_words * 4)?.1
            }
        };
        *offset = ((types.len() - have) / 4) as u32;
        *kind_slot = kind;
        if settled {
            if let Some(s) = state.get_mut(id) {
                *s = DONE;
            }
        } else {
            unsettled.push(type_id);
        }
        id += 1;
        rest = next;
    }
    offsets.truncate(id);
    kinds.truncate(id);
    state.truncate(id);
    if let Some(void) = offsets.first_mut() {
        *void = u32::MAX;
    }
    Ok(Scan {
        offsets,
        kinds,
        max_name,
        max_ref,
        state,
        unsettled,
    })
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

/// INT: size 1, 2, 4, 8 or 16; the bits at their offset fit the size.
fn check_int(size: u32, data: u32, type_id: u32) -> Result<()> {
    let bad = |msg: String| Error::BadType {
        type_id,
        kind: kind_name(k::INT),
        msg,
    };
    if !matches!(size, 1 | 2 | 4 | 8 | 16) {
        return Err(bad(format!("size {size} is not 1, 2, 4, 8 or 16")));
    }
    let bits = data & 0xff;
    let off = (data >> 16) & 0xff;
    if bits > 128 || off + bits > size * 8 {
        return Err(bad(format!(
            "{bits} bits at offset {off} do not fit {size} bytes"
        )));
    }
    Ok(())
}

/// DECL_TAG: component index -1 (the type itself) or a member/parameter index.
fn check_decl_tag(component: u32, type_id: u32) -> Result<()> {
    if (component as i32) < -1 {
        return Err(Error::BadType {
            type_id,
            kind: kind_name(k::DECL_TAG),
            msg: format!("component index {}", component as i32),
        });
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
/// Iterative depth-first search from the `roots` (see [`Scan::unsettled`]) through types not
/// yet settled, O(types + members) at worst and nothing at all when every type is settled.
fn check_value_cycles(
    words: Words<'_>,
    offsets: &[u32],
    kinds: &[u8],
    mut state: Vec<u8>,
    roots: &[u32],
) -> Result<()> {
    struct Frame {
        id: u32,
        left: u32,
        slot: usize,
        stride: usize,
    }
    if roots.is_empty() {
        return Ok(());
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
    for &start in roots {
        match state.get_mut(start as usize) {
            Some(s) if *s == UNSEEN => *s = ON_PATH,
            _ => continue,
        }
        stack.push(frame(start));
        while let Some(top) = stack.last_mut() {
            if top.left == 0 {
                if let Some(s) = state.get_mut(top.id as usize) {
                    *s = DONE;
                }
                stack.pop();
                continue;
            }
            let child = words.at(top.slot);
            top.left -= 1;
            top.slot += top.stride;
            let parent = top.id;
            match state.get_mut(child as usize) {
                Some(s) if *s == UNSEEN => {
                    *s = ON_PATH;
                    stack.push(frame(child));
                }
                Some(s) if *s == ON_PATH => {
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
