//! Kernel images: the vmlinux ELF inside an x86 `bzImage` (`vmlinuz`).
//!
//! A bzImage starts with the real-mode setup code; its boot setup header
//! (Documentation/arch/x86/boot.rst) says where the compressed kernel sits:
//! the protected-mode code starts at `(setup_sects + 1) * 512`, and
//! `payload_offset` / `payload_length` (protocol 2.08+) locate the compressed
//! vmlinux relative to it. The compression is recognised by its magic; the
//! kernel's build appends the decompressed size as 4 little-endian bytes.

mod lz4;

use std::io::Read;

use crate::error::{Error, Result};

/// Upper bound for a decompressed vmlinux.
const MAX_VMLINUX: u64 = 2 << 30;

/// Offset of `setup_sects` in the image.
const SETUP_SECTS: usize = 0x1f1;
/// Offset of `boot_flag` (`0xAA55`).
const BOOT_FLAG: usize = 0x1fe;
/// Offset of the `HdrS` header magic.
const HEADER_MAGIC: usize = 0x202;
/// Offset of the boot protocol version.
const VERSION: usize = 0x206;
/// Offset of `payload_offset`.
const PAYLOAD_OFFSET: usize = 0x248;
/// Offset of `payload_length`.
const PAYLOAD_LENGTH: usize = 0x24c;
/// First boot protocol version with `payload_offset` / `payload_length`.
const MIN_VERSION: u16 = 0x0208;

/// The compressions a kernel build can use (`CONFIG_KERNEL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Xz,
    Lzma,
    Lz4,
    Zstd,
    Bzip2,
    Lzo,
}

impl Compression {
    fn detect(data: &[u8]) -> Option<Compression> {
        const MAGICS: &[(&[u8], Compression)] = &[
            (b"\x1f\x8b", Compression::Gzip),
            (b"\xfd7zXZ\x00", Compression::Xz),
            (b"\x5d\x00\x00", Compression::Lzma),
            (b"\x02\x21\x4c\x18", Compression::Lz4),
            (b"\x28\xb5\x2f\xfd", Compression::Zstd),
            (b"BZh", Compression::Bzip2),
            (b"\x89LZO", Compression::Lzo),
        ];
        MAGICS
            .iter()
            .find(|(magic, _)| data.starts_with(magic))
            .map(|(_, c)| *c)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Lzma => "lzma",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Lzo => "lzo",
        }
    }
}

/// True if `data` looks like an x86 bzImage (boot flag and `HdrS` magic).
pub fn is_bzimage(data: &[u8]) -> bool {
    data.get(BOOT_FLAG..BOOT_FLAG + 2) == Some(&[0x55, 0xaa])
        && data.get(HEADER_MAGIC..HEADER_MAGIC + 4) == Some(b"HdrS")
}

/// Extracts the vmlinux ELF from an x86 bzImage (`vmlinuz`).
///
/// Supports images compressed with gzip, xz, lzma, lz4 (Debian 11 and 12) and
/// zstd (Debian 13); bzip2 and lzo images give an error naming the
/// compression. The result starts with the ELF magic; its `.BTF` section is
/// the kernel's BTF.
pub fn extract_vmlinux(image: &[u8]) -> Result<Vec<u8>> {
    let payload = payload(image)?;
    let compression = Compression::detect(payload).ok_or_else(|| {
        bad(format!(
            "the payload has no known compression magic (first bytes {:02x?})",
            payload.iter().take(6).collect::<Vec<_>>()
        ))
    })?;
    let vmlinux = match compression {
        Compression::Gzip => read_limited(flate2::read::GzDecoder::new(payload), "gzip")?,
        Compression::Xz => read_limited(liblzma::read::XzDecoder::new(payload), "xz")?,
        Compression::Lzma => {
            let stream = liblzma::stream::Stream::new_lzma_decoder(MAX_VMLINUX)
                .map_err(|e| bad(format!("lzma: {e}")))?;
            read_limited(
                liblzma::read::XzDecoder::new_stream(payload, stream),
                "lzma",
            )?
        }
        Compression::Lz4 => {
            lz4::decompress_legacy(payload, MAX_VMLINUX).map_err(|e| bad(format!("lz4: {e}")))?
        }
        Compression::Zstd => read_limited(
            ruzstd::decoding::StreamingDecoder::new(payload)
                .map_err(|e| bad(format!("zstd: {e}")))?,
            "zstd",
        )?,
        other => {
            return Err(bad(format!(
                "{}-compressed images are not supported; pass the vmlinux ELF instead \
                 (e.g. from the kernel's scripts/extract-vmlinux)",
                other.name()
            )))
        }
    };
    if !crate::elf::is_elf(&vmlinux) {
        return Err(bad(format!(
            "the {}-decompressed payload is not an ELF file (first bytes {:02x?})",
            compression.name(),
            vmlinux.iter().take(4).collect::<Vec<_>>()
        )));
    }
    Ok(vmlinux)
}

/// The compressed vmlinux located by the setup header.
fn payload(image: &[u8]) -> Result<&[u8]> {
    if !is_bzimage(image) {
        return Err(bad(
            "not an x86 bzImage (no 0xAA55 boot flag and HdrS magic in the setup header)".into(),
        ));
    }
    let version = u16_at(image, VERSION)?;
    if version < MIN_VERSION {
        return Err(bad(format!(
            "boot protocol {}.{:02} has no payload fields (need 2.08 or later)",
            version >> 8,
            version & 0xff
        )));
    }
    let setup_sects = match image.get(SETUP_SECTS).copied().unwrap_or(0) {
        0 => 4,
        n => usize::from(n),
    };
    let kernel_start = (setup_sects + 1) * 512;
    let offset = u32_at(image, PAYLOAD_OFFSET)? as usize;
    let length = u32_at(image, PAYLOAD_LENGTH)? as usize;
    let start = kernel_start.saturating_add(offset);
    let end = start.saturating_add(length);
    image.get(start..end).ok_or_else(|| {
        bad(format!(
            "payload at {start}..{end} runs past the end of the image ({} bytes); is the file truncated?",
            image.len()
        ))
    })
}

fn u16_at(data: &[u8], at: usize) -> Result<u16> {
    let bytes = data
        .get(at..at + 2)
        .ok_or_else(|| truncated("setup header", at, 2, data.len()))?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32> {
    let bytes = data
        .get(at..at + 4)
        .ok_or_else(|| truncated("setup header", at, 4, data.len()))?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn truncated(what: &'static str, offset: usize, need: usize, have: usize) -> Error {
    Error::Truncated {
        what,
        offset,
        need,
        have,
    }
}

fn bad(msg: String) -> Error {
    Error::KernelImage(msg)
}

/// Reads a decompressor to the end, at most [`MAX_VMLINUX`] bytes.
fn read_limited(reader: impl Read, name: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(MAX_VMLINUX + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("{name} decompression failed: {e}")))?;
    if out.len() as u64 > MAX_VMLINUX {
        return Err(bad(format!(
            "{name}: decompressed vmlinux exceeds {MAX_VMLINUX} bytes"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
