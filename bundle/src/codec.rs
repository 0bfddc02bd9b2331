//! Payload compression (FORMAT.md §2): lz4, xz, gzip or none, recognised
//! by the magic bytes, never by a file name.

use std::{fmt, io::Read, str::FromStr};

use flate2::{read::GzDecoder, write::GzEncoder};

use crate::Error;

/// The xz stream magic.
const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
/// The gzip magic.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// The LZ4 frame magic (0x184D2204, little-endian).
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4d, 0x18];
/// The largest dictionary the xz encoder uses (the payload is usually far
/// smaller; the dictionary is sized to it so encoding stays cheap).
const XZ_MAX_DICT: u32 = 64 << 20;

/// How a payload tar is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    /// LZ4 frame: decodes in microseconds (xz takes about half a
    /// millisecond more for a typical tool); the default for executables,
    /// whose BTFs are already compressed inside the BTF pack (FORMAT.md §2.2).
    #[default]
    Lz4,
    /// xz (LZMA2, preset 6, CRC64): the smallest; its dictionary
    /// spans the whole tar, so BTFs that are similar but not identical
    /// compress against each other.
    Xz,
    /// gzip (deflate, best): what eunomia's tools produce.
    Gzip,
    /// No compression: the plain tar.
    None,
}

impl Codec {
    /// Every codec, in the order `--compression` lists them.
    pub const ALL: [Codec; 4] = [Codec::Lz4, Codec::Xz, Codec::Gzip, Codec::None];

    /// The codec's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Lz4 => "lz4",
            Codec::Xz => "xz",
            Codec::Gzip => "gzip",
            Codec::None => "none",
        }
    }

    /// The codec `bytes` are compressed with, from their magic: lz4
    /// (`04 22 4d 18`), xz (`fd 37 7a 58 5a 00`), gzip (`1f 8b`), else
    /// [`Codec::None`].
    pub fn sniff(bytes: &[u8]) -> Codec {
        if bytes.starts_with(LZ4_MAGIC) {
            Codec::Lz4
        } else if bytes.starts_with(XZ_MAGIC) {
            Codec::Xz
        } else if bytes.starts_with(GZIP_MAGIC) {
            Codec::Gzip
        } else {
            Codec::None
        }
    }

    /// Compresses `data`.
    pub fn compress(self, data: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Codec::None => Ok(data.to_vec()),
            Codec::Gzip => {
                let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
                std::io::Write::write_all(&mut gz, data).map_err(Error::TarWrite)?;
                gz.finish().map_err(Error::TarWrite)
            }
            Codec::Xz => xz_compress(data),
            Codec::Lz4 => {
                use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
                // Independent 4 MiB blocks and the content size in the
                // header: what `lz4_one_pass` decodes without a window.
                let info = FrameInfo::new()
                    .content_size(Some(data.len() as u64))
                    .block_size(BlockSize::Max4MB)
                    .block_mode(BlockMode::Independent);
                let mut lz4 = FrameEncoder::with_frame_info(info, Vec::new());
                std::io::Write::write_all(&mut lz4, data).map_err(Error::TarWrite)?;
                lz4.finish()
                    .map_err(|e| Error::TarWrite(std::io::Error::other(e)))
            }
        }
    }

    /// Decompresses `data` (which must be in this codec), refusing output
    /// larger than `limit` bytes.
    pub fn decompress(self, data: &[u8], limit: u64) -> Result<Vec<u8>, Error> {
        if self == Codec::Lz4 {
            if let Some(decoded) = lz4_one_pass(data, limit) {
                return decoded;
            }
        }
        let (what, reader): (&'static str, Box<dyn Read + '_>) = match self {
            Codec::None => return Ok(data.to_vec()),
            Codec::Gzip => ("gzip stream", Box::new(GzDecoder::new(data))),
            Codec::Lz4 => (
                "lz4 frame",
                Box::new(lz4_flex::frame::FrameDecoder::new(data)),
            ),
            Codec::Xz => (
                "xz stream",
                Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
            ),
        };
        let mut out = Vec::new();
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|source| Error::PayloadFormat { what, source })?;
        if out.len() as u64 > limit {
            return Err(Error::PayloadTooLarge {
                what: "after decompression".into(),
                limit,
            });
        }
        Ok(out)
    }
}

/// The frame descriptor flags `compress` writes: version 01, independent
/// blocks, no block checksums, content size present, no content checksum,
/// no dictionary id.
const LZ4_FLG_ONE_PASS: u8 = 0x68;
/// Magic, FLG, BD, the 8-byte content size and the header checksum.
const LZ4_ONE_PASS_HEADER: usize = 4 + 2 + 8 + 1;

/// Decodes an LZ4 frame of the form `compress` writes straight into a
/// buffer of the declared content size (`lz4_flex`'s streaming decoder
/// zero-fills a 12 MiB window first, which costs a packed tool more than
/// the rest of reading its payload). `None` for any other frame form, which
/// the streaming decoder then reads. The header checksum is not verified:
/// a packed tool's payload is covered by its SHA-256, and every block is
/// bounds-checked and must fill the declared size exactly.
fn lz4_one_pass(data: &[u8], limit: u64) -> Option<Result<Vec<u8>, Error>> {
    if data.get(4) != Some(&LZ4_FLG_ONE_PASS) {
        return None;
    }
    let invalid = |msg: String| Error::PayloadFormat {
        what: "lz4 frame",
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, msg),
    };
    let Some(size) = data.get(6..14) else {
        return Some(Err(invalid("the frame header is truncated".into())));
    };
    let size = u64::from_le_bytes([
        size[0], size[1], size[2], size[3], size[4], size[5], size[6], size[7],
    ]);
    if size > limit {
        return Some(Err(Error::PayloadTooLarge {
            what: "after decompression".into(),
            limit,
        }));
    }
    let mut out = vec![0u8; usize::try_from(size).ok()?];
    let (mut at, mut filled) = (LZ4_ONE_PASS_HEADER, 0usize);
    loop {
        let Some(word) = data.get(at..at + 4) else {
            return Some(Err(invalid(format!(
                "the frame ends at byte {at}, inside a block header"
            ))));
        };
        let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        at += 4;
        if word == 0 {
            break;
        }
        let (len, stored) = ((word & 0x7fff_ffff) as usize, word & 0x8000_0000 != 0);
        let Some(block) = data.get(at..at.saturating_add(len)) else {
            return Some(Err(invalid(format!(
                "a {len}-byte block at byte {at} runs past the end"
            ))));
        };
        at += len;
        let target = &mut out[filled..];
        let written = if stored {
            match target.get_mut(..len) {
                Some(dst) => {
                    dst.copy_from_slice(block);
                    len
                }
                None => {
                    return Some(Err(invalid(
                        "a stored block overruns the content size".into(),
                    )))
                }
            }
        } else {
            match lz4_flex::block::decompress_into(block, target) {
                Ok(n) => n,
                Err(e) => return Some(Err(invalid(format!("block at byte {}: {e}", at - len)))),
            }
        };
        filled += written;
    }
    if filled != out.len() || at != data.len() {
        return Some(Err(invalid(format!(
            "{filled} bytes decoded of a declared {}, {} bytes after the end mark",
            out.len(),
            data.len().saturating_sub(at)
        ))));
    }
    Some(Ok(out))
}

/// xz with preset 6 and a dictionary just large enough for `data`
/// (presets 7-9 differ only in their larger dictionaries; "extreme" would
/// double the time of this serial step for a fraction of a percent).
fn xz_compress(data: &[u8]) -> Result<Vec<u8>, Error> {
    use liblzma::stream::{Check, Filters, LzmaOptions, Stream};
    let lzma_err = |e: liblzma::stream::Error| {
        Error::TarWrite(std::io::Error::other(format!("xz encoder: {e}")))
    };
    let dict = u32::try_from(data.len())
        .unwrap_or(u32::MAX)
        .clamp(4096, XZ_MAX_DICT);
    let mut options = LzmaOptions::new_preset(6).map_err(lzma_err)?;
    options.dict_size(dict);
    let mut filters = Filters::new();
    filters.lzma2(&options);
    let stream = Stream::new_stream_encoder(&filters, Check::Crc64).map_err(lzma_err)?;
    let mut encoder = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    std::io::Write::write_all(&mut encoder, data).map_err(Error::TarWrite)?;
    encoder.finish().map_err(Error::TarWrite)
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Codec, String> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown compression '{s}': use lz4, xz, gzip or none"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sniffs() {
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for codec in Codec::ALL {
            let packed = codec.compress(&data).unwrap();
            assert_eq!(Codec::sniff(&packed), codec, "{codec}");
            assert_eq!(codec.decompress(&packed, 1 << 20).unwrap(), data);
            assert_eq!(codec.name().parse::<Codec>().unwrap(), codec);
        }
        let xz = Codec::Xz.compress(&data).unwrap();
        assert!(xz.len() < Codec::Gzip.compress(&data).unwrap().len());
        assert!("zstd"
            .parse::<Codec>()
            .unwrap_err()
            .contains("lz4, xz, gzip or none"));
    }

    #[test]
    fn lz4_frames_decode_in_one_pass_and_streaming_alike() {
        let data: Vec<u8> = (0..40_000u32)
            .flat_map(|i| (i % 7919).to_le_bytes())
            .collect();
        let ours = Codec::Lz4.compress(&data).unwrap();
        assert_eq!(ours[4], LZ4_FLG_ONE_PASS);
        assert_eq!(lz4_one_pass(&ours, 1 << 30).unwrap().unwrap(), data);
        // A frame of another form (linked blocks, no size) takes the streaming path.
        let mut other = lz4_flex::frame::FrameEncoder::new(Vec::new());
        std::io::Write::write_all(&mut other, &data).unwrap();
        let other = other.finish().unwrap();
        assert!(lz4_one_pass(&other, 1 << 30).is_none());
        assert_eq!(Codec::Lz4.decompress(&other, 1 << 30).unwrap(), data);
        // Damage never panics and is an error.
        for len in (5..ours.len()).step_by(97) {
            assert!(Codec::Lz4.decompress(&ours[..len], 1 << 30).is_err());
        }
        for i in (0..ours.len()).step_by(13) {
            let mut bad = ours.clone();
            bad[i] ^= 0x41;
            let _ = Codec::Lz4.decompress(&bad, 1 << 30);
        }
        assert!(matches!(
            Codec::Lz4.decompress(&ours, 1000),
            Err(Error::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn decompression_is_bounded_and_checked() {
        let data = vec![0u8; 100_000];
        for codec in [Codec::Lz4, Codec::Xz, Codec::Gzip] {
            let packed = codec.compress(&data).unwrap();
            assert!(matches!(
                codec.decompress(&packed, 1000),
                Err(Error::PayloadTooLarge { .. })
            ));
            let cut = &packed[..packed.len() / 2];
            assert!(matches!(
                codec.decompress(cut, 1 << 20),
                Err(Error::PayloadFormat { .. })
            ));
        }
    }
}
