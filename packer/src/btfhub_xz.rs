//! The fast path for btfhub's `.btf.tar.xz`: an xz stream of a tar whose
//! first member is the raw BTF. The BTF is decoded straight into one buffer
//! of the member's exact size (the size is in the tar header), with no
//! intermediate copies of the decompressed tar. Anything else, damaged
//! files included, is left to `btf::decode_kernel_btf`, whose errors say
//! what is wrong.

use std::io::Read;

const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";
const TAR_BLOCK: usize = 512;
/// The largest BTF accepted here (larger ones take the general path).
const MAX_BTF: u64 = 1 << 30;

/// The raw BTF of a btfhub `.btf.tar.xz`, or `None` when `file` is not one
/// (or is damaged).
pub fn decode(file: &[u8]) -> Option<Vec<u8>> {
    if !file.starts_with(XZ_MAGIC) {
        return None;
    }
    let mut xz = liblzma::read::XzDecoder::new(file);
    let mut header = [0u8; TAR_BLOCK];
    xz.read_exact(&mut header).ok()?;
    let size = regular_member_size(&header)?;
    if size > MAX_BTF {
        return None;
    }
    let mut btf = vec![0u8; usize::try_from(size).ok()?];
    xz.read_exact(&mut btf).ok()?;
    let is_btf = btf.starts_with(&[0x9f, 0xeb]) || btf.starts_with(&[0xeb, 0x9f]);
    is_btf.then_some(btf)
}

/// The size of the regular file a ustar header describes.
fn regular_member_size(header: &[u8; TAR_BLOCK]) -> Option<u64> {
    if header.get(257..262)? != b"ustar" || !matches!(header.get(156)?, b'0' | 0) {
        return None;
    }
    let field = header.get(124..136)?;
    let digits: &[u8] = {
        let end = field
            .iter()
            .position(|b| *b == 0 || *b == b' ')
            .unwrap_or(field.len());
        field.get(..end)?
    };
    let text = std::str::from_utf8(digits).ok()?.trim_start();
    u64::from_str_radix(text, 8).ok()
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
    fn decodes_btfhub_files_and_declines_the_rest() {
        let btf = [&[0x9f, 0xeb, 1, 0][..], &[7u8; 3000][..]].concat();
        assert_eq!(
            decode(&tar_xz("5.4.0-26-generic.btf", &btf)),
            Some(btf.clone())
        );
        // Not BTF inside, not xz, truncated: the general decoder's business.
        assert_eq!(decode(&tar_xz("notes.txt", b"hello")), None);
        assert_eq!(decode(&btf), None);
        let whole = tar_xz("k.btf", &btf);
        assert_eq!(decode(&whole[..whole.len() / 2]), None);
    }
}
