//! [`decode_kernel_btf`]: turns whatever a user has for a kernel into raw BTF bytes.

use std::io::Read;

use crate::error::{Error, Result};
use crate::header::Endian;

/// Upper bound for decompressed data (a vmlinux ELF with BTF can be a few hundred MB).
const MAX_DECOMPRESSED: u64 = 2 << 30;

const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";

fn is_tar(data: &[u8]) -> bool {
    data.get(257..262) == Some(b"ustar")
}

/// Decodes kernel BTF from raw BTF, an ELF file with `.BTF` (vmlinux), an x86
/// kernel image (bzImage / vmlinuz, see [`crate::extract_vmlinux`]), a btfhub
/// `.btf.tar.xz`, a bare `.xz`, or a tar archive; returns raw BTF bytes.
///
/// All decoding is in memory. The result starts with a BTF magic; parse it with [`crate::Btf::parse`].
pub fn decode_kernel_btf(input: &[u8]) -> Result<Vec<u8>> {
    decode(input, 0)
}

fn decode(input: &[u8], depth: u32) -> Result<Vec<u8>> {
    if depth > 2 {
        return Err(Error::UnknownFormat(
            input.iter().take(8).copied().collect(),
        ));
    }
    if Endian::detect(input).is_some() {
        return Ok(input.to_vec());
    }
    if crate::kernel_image::is_bzimage(input) {
        return decode(&crate::kernel_image::extract_vmlinux(input)?, depth + 1);
    }
    if crate::elf::is_elf(input) {
        return crate::elf::btf_sections(input)?
            .btf
            .ok_or(Error::NoBtfSection);
    }
    if input.starts_with(XZ_MAGIC) {
        return decode(&unxz(input)?, depth + 1);
    }
    if is_tar(input) {
        return from_tar(input, depth);
    }
    Err(Error::UnknownFormat(
        input.iter().take(8).copied().collect(),
    ))
}

fn unxz(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len().saturating_mul(4));
    liblzma::read::XzDecoder::new_multi_decoder(input)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Xz(e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(Error::Xz(format!(
            "decompressed data exceeds {MAX_DECOMPRESSED} bytes"
        )));
    }
    Ok(out)
}

/// The first regular file in the archive that decodes as BTF.
fn from_tar(input: &[u8], depth: u32) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(|e| Error::Tar(e.to_string()))?;
    let mut names = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Tar(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let size = entry.size();
        if size > MAX_DECOMPRESSED {
            return Err(Error::Tar(format!(
                "entry {name} is {size} bytes, too large"
            )));
        }
        // The entry cannot be larger than the archive holding it.
        let mut data = Vec::with_capacity(size.min(input.len() as u64) as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| Error::Tar(format!("entry {name}: {e}")))?;
        if let Ok(btf) = decode(&data, depth + 1) {
            return Ok(btf);
        }
        names.push(name);
    }
    Err(Error::Tar(format!(
        "no entry holds BTF (entries: {})",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}
