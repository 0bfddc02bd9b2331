//! [`decode_kernel_btf`]: turns whatever a user has for a kernel into raw BTF bytes.

use std::io::Read;

use crate::error::{Error, Result};
use crate::header::Endian;

/// Upper bound for decompressed data (a vmlinux ELF with BTF can be a few hundred MB).
const MAX_DECOMPRESSED: u64 = 2 << 30;

const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
const TAR_BLOCK: usize = 512;
/// The most a btfhub member may claim per byte of `.btf.tar.xz` for the
/// exact-size fast path (xz shrinks BTF about 5×); larger claims take the
/// general path, which only allocates what really decompresses.
const MAX_BTFHUB_EXPANSION: u64 = 32;

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
        if let Some(btf) = btfhub_member(input) {
            return Ok(btf);
        }
        return decode(&unxz(input)?, depth + 1);
    }
    if is_tar(input) {
        return from_tar(input, depth);
    }
    Err(Error::UnknownFormat(
        input.iter().take(8).copied().collect(),
    ))
}

/// btfhub's `.btf.tar.xz`: an xz stream of a tar whose first member is the
/// raw BTF. Decodes that member straight into one buffer of its exact size
/// (taken from the tar header) without materialising the whole tar. `None`
/// for anything else, damaged files included: the general path decodes those
/// and says what is wrong.
fn btfhub_member(input: &[u8]) -> Option<Vec<u8>> {
    let mut xz = liblzma::read::XzDecoder::new_multi_decoder(input);
    let mut block = [0u8; TAR_BLOCK];
    xz.read_exact(&mut block).ok()?;
    if !is_tar(&block) {
        return None;
    }
    let header = tar::Header::from_byte_slice(&block);
    if !header.entry_type().is_file() {
        return None;
    }
    let size = header.entry_size().ok()?;
    let limit = (input.len() as u64).saturating_mul(MAX_BTFHUB_EXPANSION);
    if size > limit.min(MAX_DECOMPRESSED) {
        return None;
    }
    let mut btf = vec![0u8; usize::try_from(size).ok()?];
    xz.read_exact(&mut btf).ok()?;
    Endian::detect(&btf).is_some().then_some(btf)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_xz(name: &str, data: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, data).unwrap();
        let tar = builder.into_inner().unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        std::io::Write::write_all(&mut xz, &tar).unwrap();
        xz.finish().unwrap()
    }

    #[test]
    fn btfhub_member_is_decoded_at_its_exact_size_and_the_rest_declined() {
        let btf = [&[0x9f, 0xeb, 1, 0][..], &[7u8; 3000][..]].concat();
        let file = tar_xz("5.4.0-26-generic.btf", &btf);
        assert_eq!(btfhub_member(&file), Some(btf.clone()));
        assert_eq!(decode_kernel_btf(&file).unwrap(), btf);
        // Not BTF inside, not xz, truncated: the general path's business.
        assert_eq!(btfhub_member(&tar_xz("notes.txt", b"hello")), None);
        assert_eq!(btfhub_member(&btf), None);
        let truncated = &file[..file.len() / 2];
        assert_eq!(btfhub_member(truncated), None);
        assert!(decode_kernel_btf(truncated).is_err());
    }
}
