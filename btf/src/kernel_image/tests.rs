use std::io::Write;
use std::path::PathBuf;

use super::*;

/// A bzImage with 4 setup sectors whose payload is `payload`.
fn image(payload: &[u8]) -> Vec<u8> {
    let mut img = vec![0u8; 5 * 512];
    img[SETUP_SECTS] = 4;
    img[BOOT_FLAG..BOOT_FLAG + 2].copy_from_slice(&[0x55, 0xaa]);
    img[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
    img[VERSION..VERSION + 2].copy_from_slice(&0x020fu16.to_le_bytes());
    img[PAYLOAD_OFFSET..PAYLOAD_OFFSET + 4].copy_from_slice(&64u32.to_le_bytes());
    img[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    img.extend_from_slice(&[0xcc; 64]);
    img.extend_from_slice(payload);
    img.extend_from_slice(&[0; 32]);
    img
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    let mut out = enc.finish().unwrap();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
    enc.write_all(data).unwrap();
    let mut out = enc.finish().unwrap();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    let mut out =
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

const FAKE_ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00 not really an ELF, but it starts like one";

#[test]
fn gzip_payload() {
    assert_eq!(extract_vmlinux(&image(&gzip(FAKE_ELF))).unwrap(), FAKE_ELF);
}

#[test]
fn xz_payload() {
    assert_eq!(extract_vmlinux(&image(&xz(FAKE_ELF))).unwrap(), FAKE_ELF);
}

#[test]
fn zstd_payload() {
    assert_eq!(extract_vmlinux(&image(&zstd(FAKE_ELF))).unwrap(), FAKE_ELF);
}

#[test]
fn payload_that_is_not_elf() {
    let err = extract_vmlinux(&image(&gzip(b"hello"))).unwrap_err();
    assert!(err.to_string().contains("not an ELF"), "{err}");
}

#[test]
fn unknown_compression() {
    let err = extract_vmlinux(&image(b"garbage garbage")).unwrap_err();
    assert!(err.to_string().contains("no known compression"), "{err}");
}

#[test]
fn unsupported_compression_is_named() {
    let err = extract_vmlinux(&image(b"BZh91AY&SY....")).unwrap_err();
    assert!(err.to_string().contains("bzip2-compressed"), "{err}");
}

#[test]
fn corrupt_zstd() {
    let err = extract_vmlinux(&image(b"\x28\xb5\x2f\xfd\xff\xff\xff\xff")).unwrap_err();
    assert!(err.to_string().contains("zstd"), "{err}");
}

#[test]
fn truncated_image() {
    let img = image(&gzip(FAKE_ELF));
    for len in [0, 100, 0x203, 0x24d, img.len() - 40] {
        let err = extract_vmlinux(&img[..len]).unwrap_err().to_string();
        assert!(
            err.contains("not an x86 bzImage")
                || err.contains("truncated")
                || err.contains("runs past the end"),
            "{len}: {err}"
        );
    }
}

#[test]
fn corrupt_gzip() {
    let mut payload = gzip(FAKE_ELF);
    let mid = payload.len() / 2;
    payload[mid..].fill(0xff);
    let err = extract_vmlinux(&image(&payload)).unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");
}

#[test]
fn old_boot_protocol() {
    let mut img = image(&gzip(FAKE_ELF));
    img[VERSION..VERSION + 2].copy_from_slice(&0x0204u16.to_le_bytes());
    let err = extract_vmlinux(&img).unwrap_err();
    assert!(err.to_string().contains("boot protocol 2.04"), "{err}");
}

#[test]
fn garbage_is_not_a_bzimage() {
    assert!(!is_bzimage(b"\x7fELF"));
    assert!(!is_bzimage(&[0u8; 4096]));
    assert!(extract_vmlinux(&[0xffu8; 4096]).is_err());
}

/// Real Debian kernels from the VM harness's cache (tests/vm/kernels.rs:
/// `kernels/<release>/vmlinuz-<release>` under `$BPFC_VM_CACHE`, else
/// `$XDG_CACHE_HOME` or `~/.cache`, `/bpf-compatible/vm`).
fn cached_kernels() -> Vec<PathBuf> {
    let dir = match std::env::var_os("BPFC_VM_CACHE") {
        Some(d) => PathBuf::from(d),
        None => {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
            match base {
                Some(b) => b.join("bpf-compatible/vm"),
                None => return Vec::new(),
            }
        }
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.join("kernels")).into_iter().flatten() {
        for file in std::fs::read_dir(entry.unwrap().path())
            .into_iter()
            .flatten()
        {
            let path = file.unwrap().path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn real_debian_kernels() {
    let kernels = cached_kernels();
    if kernels.is_empty() {
        eprintln!("skip: no cached Debian kernel (run `make vm-test` once to fetch them)");
        return;
    }
    for path in kernels {
        let img = std::fs::read(&path).unwrap();
        assert!(is_bzimage(&img), "{}", path.display());
        let vmlinux = extract_vmlinux(&img).unwrap();
        let btf = crate::Btf::from_elf(&vmlinux).unwrap();
        assert!(btf.type_count() > 10_000, "{}", path.display());
        assert!(btf.ids_by_name("task_struct").next().is_some());
        // The image and the vmlinux ELF inside it give the same BTF.
        assert_eq!(
            crate::decode_kernel_btf(&img).unwrap(),
            crate::decode_kernel_btf(&vmlinux).unwrap()
        );
        // Cut the image short: a clear error, not a panic.
        let cut = &img[..img.len() / 2];
        let err = extract_vmlinux(cut).unwrap_err().to_string();
        assert!(err.contains("runs past the end"), "{err}");
        // Damage the middle of the payload: an error, not a panic.
        let mut bad = img.clone();
        let mid = bad.len() / 2;
        bad[mid..mid + 4096].fill(0xa5);
        let _ = crate::decode_kernel_btf(&bad);
        eprintln!("ok: {} ({} types)", path.display(), btf.type_count());
    }
}
