//! Which BTF libbpf gets (FORMAT.md §4) and making embedded BTF reachable by
//! path: its bytes go into a sealed memfd whose `/proc/self/fd/N` path is
//! passed as libbpf's `btf_custom_path`.

use crate::errors::{Failure, Kind, ResultExt};
use bundle::identity::{self, KernelId};
use bundle::payload::Payload;
use bundle::select::{self, BtfChoice};
use memfd::{FileSeal, MemfdOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Where the kernel exposes its own BTF.
pub const NATIVE_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The selection and the facts it was made from (also shown by `--check`).
pub struct Decision {
    /// This system's identity, when it could be read.
    pub identity: Result<KernelId, String>,
    /// Whether [`NATIVE_BTF`] can be read.
    pub native_readable: bool,
    /// The choice.
    pub choice: BtfChoice,
}

/// Is the kernel's own BTF readable?
pub fn native_btf_readable() -> bool {
    std::fs::File::open(NATIVE_BTF).is_ok()
}

/// Select the BTF for this system: `--btf` override, native, embedded, or not covered.
pub fn decide(payload: &Payload, override_path: Option<&Path>) -> Decision {
    let native_readable = native_btf_readable();
    let identity = identity::detect().map_err(|e| format!("{e:#}"));
    let choice = match &identity {
        Ok(me) => select::choose(payload, me, native_readable, override_path),
        // Without an identity only the first two rules can apply.
        Err(_) => match override_path {
            Some(p) => BtfChoice::Override(p.to_path_buf()),
            None => BtfChoice::Native,
        },
    };
    Decision {
        identity,
        native_readable,
        choice,
    }
}

/// One line saying which BTF is used and why.
pub fn describe(decision: &Decision) -> String {
    match &decision.choice {
        BtfChoice::Override(p) => format!("{} (given with --btf)", p.display()),
        BtfChoice::Native if decision.native_readable => {
            format!("native {NATIVE_BTF} (the kernel exposes its own BTF)")
        }
        BtfChoice::Native => format!("none: {}", unidentified(decision)),
        BtfChoice::Embedded { kernel, .. } => format!(
            "embedded {} (no readable {NATIVE_BTF}; exact match for this kernel)",
            kernel.archive_path()
        ),
        BtfChoice::NotCovered(nc) => format!("none: {nc}"),
    }
}

/// Why there is no BTF when native BTF is unreadable and the identity unknown.
fn unidentified(decision: &Decision) -> String {
    format!(
        "{NATIVE_BTF} is not readable and this system could not be identified to pick an \
         embedded BTF ({}); pass the kernel's BTF with --btf FILE",
        decision.identity.as_ref().err().map_or("", |e| e.as_str())
    )
}

/// BTF made available to libbpf; keeps the memfd (or temp file) open while
/// libbpf may read it.
pub struct PreparedBtf {
    /// `btf_custom_path` for libbpf; `None` = native BTF.
    pub custom_path: Option<PathBuf>,
    _holder: Holder,
}

enum Holder {
    Nothing,
    Memfd { _fd: memfd::Memfd },
    TempFile { _file: TempFile },
}

/// A temp file removed on drop (used only when `/proc/self/fd` is unavailable).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Turn a decision into something libbpf can use, or the not-covered failure.
pub fn prepare(decision: &Decision) -> Result<PreparedBtf, Failure> {
    match &decision.choice {
        BtfChoice::Override(p) => {
            std::fs::metadata(p).kind_ctx(Kind::Usage, || {
                format!("--btf {}: cannot read this BTF file", p.display())
            })?;
            Ok(PreparedBtf {
                custom_path: Some(p.clone()),
                _holder: Holder::Nothing,
            })
        }
        BtfChoice::Native if decision.native_readable => Ok(PreparedBtf {
            custom_path: None,
            _holder: Holder::Nothing,
        }),
        BtfChoice::Native => Err(Failure::new(Kind::NotCovered, unidentified(decision))),
        BtfChoice::Embedded { kernel, btf } => embed(kernel, btf),
        BtfChoice::NotCovered(nc) => Err(Failure::new(Kind::NotCovered, nc)),
    }
}

fn embed(kernel: &KernelId, btf: &[u8]) -> Result<PreparedBtf, Failure> {
    if Path::new("/proc/self/fd").is_dir() {
        let mfd = sealed_memfd(btf).kind_ctx(Kind::Other, || {
            format!("cannot put the embedded BTF for {kernel} into a memfd")
        })?;
        let path = PathBuf::from(format!("/proc/self/fd/{}", mfd.as_file().as_raw_fd()));
        return Ok(PreparedBtf {
            custom_path: Some(path),
            _holder: Holder::Memfd { _fd: mfd },
        });
    }
    // No /proc (e.g. a minimal initramfs): fall back to a private temp file.
    let path = std::env::temp_dir().join(format!("bpf-compatible-{}.btf", std::process::id()));
    std::fs::write(&path, btf).kind_ctx(Kind::Other, || {
        format!(
            "/proc is not mounted and the embedded BTF for {kernel} cannot be written to {}; \
             mount /proc or set TMPDIR to a writable directory",
            path.display()
        )
    })?;
    Ok(PreparedBtf {
        custom_path: Some(path.clone()),
        _holder: Holder::TempFile {
            _file: TempFile(path),
        },
    })
}

fn sealed_memfd(bytes: &[u8]) -> anyhow::Result<memfd::Memfd> {
    let mfd = MemfdOptions::default()
        .allow_sealing(true)
        .close_on_exec(true)
        .create("bpf-compatible-btf")?;
    mfd.as_file().write_all(bytes)?;
    mfd.add_seals(&[
        FileSeal::SealShrink,
        FileSeal::SealGrow,
        FileSeal::SealWrite,
        FileSeal::SealSeal,
    ])?;
    Ok(mfd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn memfd_holds_the_bytes_and_is_sealed() {
        let mfd = sealed_memfd(b"BTF bytes").unwrap();
        let path = format!("/proc/self/fd/{}", mfd.as_file().as_raw_fd());
        let mut back = Vec::new();
        std::fs::File::open(&path)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"BTF bytes");
        assert!(
            mfd.as_file().write_all(b"more").is_err(),
            "write must be sealed"
        );
        assert!(
            mfd.add_seal(FileSeal::SealFutureWrite).is_err(),
            "seals are sealed"
        );
    }
}
