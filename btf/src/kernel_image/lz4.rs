//! The LZ4 "legacy" frame the kernel build writes (`lz4 -l`): magic
//! `0x184C2102`, then blocks of `[u32 compressed size][LZ4 block]`, each
//! decompressing to at most 8 MiB. A repeated magic starts another stream;
//! the bzImage payload ends with the 4-byte decompressed size.

/// Legacy frame magic, little-endian on disk.
const MAGIC: u32 = 0x184c_2102;
/// Largest decompressed block of the legacy format.
const BLOCK_MAX: usize = 8 << 20;
/// Smallest match length the block format encodes.
const MIN_MATCH: usize = 4;

/// Decompresses a legacy LZ4 frame; stops at the end of the data or when
/// the remaining bytes cannot be a block (the trailing size field).
pub(super) fn decompress_legacy(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut rest = data
        .strip_prefix(&MAGIC.to_le_bytes())
        .ok_or("missing legacy frame magic")?;
    let mut out = Vec::new();
    while let Some((size, after)) = split_u32(rest) {
        if size == MAGIC {
            rest = after;
            continue;
        }
        let Some(block) = after.get(..size as usize) else {
            // A size that does not fit is the appended decompressed length
            // (or garbage after the last block): the frame is over.
            break;
        };
        if out.is_empty() && block.is_empty() {
            return Err("empty first block".into());
        }
        decompress_block(block, &mut out)?;
        if out.len() as u64 > limit {
            return Err(format!("decompressed data exceeds {limit} bytes"));
        }
        rest = &after[block.len()..];
    }
    if out.is_empty() {
        return Err("the frame holds no block".into());
    }
    Ok(out)
}

fn split_u32(data: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

/// Decodes one LZ4 block, appending to `out` (matches may reach back into
/// earlier blocks, as the kernel's decompressor allows).
fn decompress_block(block: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    let mut pos = 0;
    loop {
        let token = *block.get(pos).ok_or("block ends before a token")?;
        pos += 1;
        let literals = read_length(block, &mut pos, usize::from(token >> 4))?;
        let lit = block
            .get(pos..pos.saturating_add(literals))
            .ok_or_else(|| format!("literal run of {literals} bytes runs past the block"))?;
        out.extend_from_slice(lit);
        pos += literals;
        if pos == block.len() {
            break;
        }
        let offset = block
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or("block ends inside a match offset")?;
        pos += 2;
        if offset == 0 || offset > out.len() {
            return Err(format!(
                "match offset {offset} points before the start of the output ({} bytes)",
                out.len()
            ));
        }
        let length = read_length(block, &mut pos, usize::from(token & 0x0f))? + MIN_MATCH;
        if out.len() - start + length > BLOCK_MAX {
            return Err(format!(
                "block decompresses to more than the legacy format's {BLOCK_MAX} bytes"
            ));
        }
        let from = out.len() - offset;
        if offset >= length {
            out.extend_from_within(from..from + length);
        } else {
            // Overlapping copy: the pattern repeats every `offset` bytes.
            out.reserve(length);
            for i in 0..length {
                let byte = out[from + i];
                out.push(byte);
            }
        }
    }
    if out.len() - start > BLOCK_MAX {
        return Err(format!(
            "block decompresses to {} bytes, more than the legacy format's {BLOCK_MAX}",
            out.len() - start
        ));
    }
    Ok(())
}

/// A length nibble of 15 continues in the following bytes (each 255 adds
/// and continues).
fn read_length(block: &[u8], pos: &mut usize, nibble: usize) -> Result<usize, String> {
    let mut length = nibble;
    if nibble == 15 {
        loop {
            let byte = *block.get(*pos).ok_or("block ends inside a length")?;
            *pos += 1;
            length = length
                .checked_add(usize::from(byte))
                .filter(|l| *l <= BLOCK_MAX)
                .ok_or("length field exceeds the block size")?;
            if byte != 255 {
                break;
            }
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(blocks: &[&[u8]]) -> Vec<u8> {
        let mut f = MAGIC.to_le_bytes().to_vec();
        for b in blocks {
            f.extend_from_slice(&(b.len() as u32).to_le_bytes());
            f.extend_from_slice(b);
        }
        f
    }

    #[test]
    fn literals_and_overlapping_match() {
        // "ab" literal, then a match at offset 2 of length 6 → "abababab", then literal "z".
        let block = [0x22, b'a', b'b', 2, 0, 0x10, b'z'];
        let out = decompress_legacy(&frame(&[&block]), 1 << 20).unwrap();
        assert_eq!(out, b"ababababz");
    }

    #[test]
    fn trailing_size_field_ends_the_frame() {
        let mut f = frame(&[&[0x30, b'x', b'y', b'z']]);
        f.extend_from_slice(&3u32.to_le_bytes());
        assert_eq!(decompress_legacy(&f, 1 << 20).unwrap(), b"xyz");
    }

    #[test]
    fn bad_offset_is_an_error() {
        let block = [0x10, b'a', 9, 0, 0x00];
        let err = decompress_legacy(&frame(&[&block]), 1 << 20).unwrap_err();
        assert!(err.contains("match offset 9"), "{err}");
    }

    #[test]
    fn truncated_literals_are_an_error() {
        let block = [0xf0, 200];
        let err = decompress_legacy(&frame(&[&block]), 1 << 20).unwrap_err();
        assert!(err.contains("runs past the block"), "{err}");
    }

    #[test]
    fn missing_magic_is_an_error() {
        assert!(decompress_legacy(b"nope", 1 << 20).is_err());
    }
}
