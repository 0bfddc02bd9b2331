//! The delta form: an exactly reversible re-encoding of raw BTF that
//! compresses better when many similar BTFs (one object minimised for many
//! kernels) are compressed together.
//!
//! Two kinds of fields are stored as differences, in the blob's own byte
//! order, with wrapping arithmetic:
//! - every string offset (type names, member, enum value and parameter
//!   names) as the difference from the previous non-zero string offset in
//!   record order. bpftool and our minimiser write strings in first-use
//!   order, so this is the previous name's length plus one, whatever shifted
//!   the string section;
//! - every struct/union member's offset word as the difference from the
//!   previous member's (the first from 0), so that a field added early in a
//!   struct changes one delta instead of every later offset.
//!
//! Everything else (header, kind/vlen words, type ids, the string section)
//! is kept byte for byte, so both directions walk the same record layout.
//! Records of kinds this crate does not know end the transform: the rest of
//! the type section is copied unchanged, in both directions.

use crate::error::{Error, Result};
use crate::header::{Endian, Header};
use crate::kind::{extra_words, info_kind, info_vlen, k, name_slots};

/// Re-encodes raw BTF into the delta form. Fails only when `raw` is not a
/// BTF blob (bad header or section layout, truncated records).
pub fn delta_encode(raw: &[u8]) -> Result<Vec<u8>> {
    transform(raw, Direction::Encode)
}

/// Restores the raw BTF that [`delta_encode`] turned into `encoded`.
pub fn delta_decode(encoded: &[u8]) -> Result<Vec<u8>> {
    transform(encoded, Direction::Decode)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Encode,
    Decode,
}

/// Applies one direction of the running-difference transform to a stream of
/// related values.
struct Running {
    direction: Direction,
    previous: u32,
}

impl Running {
    fn new(direction: Direction) -> Running {
        Running {
            direction,
            previous: 0,
        }
    }

    /// The transformed `word`; `keep_zero` leaves `previous` alone when the
    /// plain value is 0 (anonymous names do not reset the chain).
    fn step(&mut self, word: u32, keep_zero: bool) -> u32 {
        let (plain, out) = match self.direction {
            Direction::Encode => (word, word.wrapping_sub(self.previous)),
            Direction::Decode => {
                let plain = word.wrapping_add(self.previous);
                (plain, plain)
            }
        };
        if plain != 0 || !keep_zero {
            self.previous = plain;
        }
        out
    }
}

fn transform(input: &[u8], direction: Direction) -> Result<Vec<u8>> {
    let header = Header::parse(input)?;
    let mut out = input.to_vec();
    let types = &mut out[header.types.clone()];
    let endian = header.endian;
    let mut names = Running::new(direction);
    let mut at = 0usize; // word index within the type section
    let words = types.len() / 4;
    let mut type_id = 1u32;
    while at < words {
        if at + 3 > words {
            return Err(truncated(type_id, at, words));
        }
        let info = get(types, at + 1, endian);
        let (kind, vlen) = (info_kind(info), info_vlen(info));
        let Some(extra) = extra_words(kind, vlen) else {
            break;
        };
        let len = 3 + extra;
        if at + len > words {
            return Err(truncated(type_id, at, words));
        }
        let record = &mut types[at * 4..(at + len) * 4];
        for slot in name_slots(kind, vlen) {
            let word = get(record, slot, endian);
            put(record, slot, names.step(word, true), endian);
        }
        if kind == k::STRUCT || kind == k::UNION {
            let mut offsets = Running::new(direction);
            for member in 0..vlen as usize {
                let slot = 3 + member * 3 + 2;
                let word = get(record, slot, endian);
                put(record, slot, offsets.step(word, false), endian);
            }
        }
        at += len;
        type_id += 1;
    }
    Ok(out)
}

fn truncated(type_id: u32, at: usize, words: usize) -> Error {
    Error::BadLayout(format!(
        "type [{type_id}] at byte {} runs past the end of the type section ({} bytes)",
        at * 4,
        words * 4
    ))
}

fn get(bytes: &[u8], word: usize, endian: Endian) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[word * 4..word * 4 + 4]);
    endian.u32(b)
}

fn put(bytes: &mut [u8], word: usize, value: u32, endian: Endian) {
    let b = match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    };
    bytes[word * 4..word * 4 + 4].copy_from_slice(&b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{BtfBuilder, IntEncoding};

    fn sample() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let s = b.add_struct("task", 16);
        for (name, offset) in [("pid", 0), ("", 32), ("tgid", 96)] {
            b.add_member(name, int, offset, 0).unwrap();
        }
        b.add_ptr(s);
        b.add_enum("state", 4, false);
        b.add_enum_value("RUNNING", 0).unwrap();
        b.add_enum_value("STOPPED", 4).unwrap();
        b.to_bytes()
    }

    #[test]
    fn round_trips_and_stores_differences() {
        let raw = sample();
        let enc = delta_encode(&raw).unwrap();
        assert_ne!(enc, raw);
        assert_eq!(enc.len(), raw.len());
        assert_eq!(delta_decode(&enc).unwrap(), raw);
        // The third member's offset (96) is stored as 96 - 32.
        let hdr = Header::parse(&enc).unwrap();
        let t = &enc[hdr.types.clone()];
        let struct_at = 4; // INT record: 3 + 1 words
        assert_eq!(get(t, struct_at + 3 + 2 * 3 + 2, Endian::Little), 64);
    }

    #[test]
    fn big_endian_round_trips() {
        let raw = sample();
        let hdr = Header::parse(&raw).unwrap();
        let mut be = raw.clone();
        for w in be[..24].chunks_exact_mut(4).skip(1) {
            w.reverse();
        }
        be[..2].reverse();
        for w in be[hdr.types.clone()].chunks_exact_mut(4) {
            w.reverse();
        }
        let enc = delta_encode(&be).unwrap();
        assert_eq!(delta_decode(&enc).unwrap(), be);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(delta_encode(b"not btf").is_err());
        let mut raw = sample();
        let hdr = Header::parse(&raw).unwrap();
        // Claim a vlen far beyond the type section.
        raw[hdr.types.start + 16 + 4..hdr.types.start + 16 + 6].copy_from_slice(&[0xff, 0xff]);
        assert!(delta_encode(&raw).is_err());
        assert!(delta_decode(&raw).is_err());
    }
}
