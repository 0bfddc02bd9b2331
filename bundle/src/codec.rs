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
    /// LZ4 frame: decodes in microseconds, so a packed tool starts as fast
    /// as a C loader; the default for executables, whose BTFs are already
    /// compressed inside the BTF pack (FORMAT.md §2.2).
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
                let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
                std::io::Write::write_all(&mut lz4, data).map_err(Error::TarWrite)?;
                lz4.finish()
                    .map_err(|e| Error::TarWrite(std::io::Error::other(e)))
            }
        }
    }

    /// Decompresses `data` (which must be in this codec), refusing output
    /// larger than `limit` bytes.
    pub fn decompress(self, data: &[u8], limit: u64) -> Result<Vec<u8>, Error> {
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
