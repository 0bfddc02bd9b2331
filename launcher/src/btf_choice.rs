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
    /// This system's identity, when it could be read (and was needed, see
    /// [`decide`]).
    pub identity: Result<KernelId, String>,
    /// Whether [`NATIVE_BTF`] can be read (not looked at when `--btf` decides).
    pub native_readable: bool,
    /// The choice.
    pub choice: BtfChoice,
}

/// Is the kernel's own BTF readable?
pub fn native_btf_readable() -> bool {
    std::fs::File::open(NATIVE_BTF).is_ok()
}

/// Select the BTF for this system: `--btf` override, native, embedded, or not covered.
/// Fails only when the payload's BTF for this kernel cannot be decoded.
/// The system's identity is read when the choice depends on it, or always
/// with `report` (for `--check`, `-v`): a tool on a kernel with its own BTF
/// starts without reading os-release.
pub fn decide(
    payload: &Payload,
    override_path: Option<&Path>,
    report: bool,
) -> Result<Decision, Failure> {
    let native_readable = (report || override_path.is_none()) && native_btf_readable();
    let identity = if report || (override_path.is_none() && !native_readable) {
        identity::detect().map_err(|e| format!("{e:#}"))
    } else {
        Err("not read: the choice does not depend on it".to_string())
    };
    let choice = match &identity {
        Ok(me) => select::choose(payload, me, native_readable, override_path)
            .kind_ctx(Kind::Payload, || {
                format!("the embedded BTF for {me} cannot be read; re-download the tool or rebuild it with `packer build`")
            })?,
        // Without an identity only the first two rules can apply.
        Err(_) => match override_path {
            Some(p) => BtfChoice::Override(p.to_path_buf()),
            None => BtfChoice::Native,
        },
    };
    Ok(Decision {
        identity,
        native_readable,
        choice,
    })
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
    let memfd_problem = if Path::new("/proc/self/fd").is_dir() {
        match sealed_memfd(btf) {
            Ok(mfd) => {
                let path = PathBuf::from(format!("/proc/self/fd/{}", mfd.as_file().as_raw_fd()));
                return Ok(PreparedBtf {
                    custom_path: Some(path),
                    _holder: Holder::Memfd { _fd: mfd },
                });
            }
            // Kernels before 3.17 have no memfd_create.
            Err(e) => format!("memfd failed: {e:#}"),
        }
    } else {
        "/proc is not mounted".to_string()
    };
    // Fall back to a private temp file, removed on exit.
    let dir = std::env::temp_dir();
    let path = private_temp_file(&dir, btf).kind_ctx(Kind::Other, || {
        format!(
            "cannot hand the embedded BTF for {kernel} to libbpf ({memfd_problem}) and cannot \
             write it to {}; mount /proc or set TMPDIR to a writable directory",
            dir.display()
        )
    })?;
    Ok(PreparedBtf {
        custom_path: Some(path.clone()),
        _holder: Holder::TempFile {
            _file: TempFile(path),
        },
    })
}

/// Write `bytes` to a new file (0600, never an existing path or symlink) in `dir`.
fn private_temp_file(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut last_err = None;
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            "bpf-compatible-{}-{attempt}.btf",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                if let Err(e) = f.write_all(bytes) {
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free temp file name")))
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
    fn the_identity_is_read_only_when_needed() {
        use bundle::package::{Meta, Package};
        let payload = Payload::new(Package::new(b"o", Meta::new("t_bpf")));
        let btf = Path::new("/some/vmlinux.btf");
        let quick = decide(&payload, Some(btf), false).unwrap();
        assert!(matches!(quick.choice, BtfChoice::Override(_)));
        assert!(quick.identity.is_err(), "--btf decides alone");
        let reported = decide(&payload, Some(btf), true).unwrap();
        assert!(matches!(reported.choice, BtfChoice::Override(_)));
        assert_eq!(reported.native_readable, native_btf_readable());
        // --check and -v show the identity whatever decides (this machine's
        // os-release is readable).
        assert!(reported.identity.is_ok(), "{:?}", reported.identity);
        let native = decide(&payload, None, false).unwrap();
        assert_eq!(native.identity.is_ok(), !native_btf_readable());
    }

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

    #[test]
    fn temp_file_fallback_is_private_and_never_reuses_a_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = private_temp_file(dir.path(), b"one").unwrap();
        let b = private_temp_file(dir.path(), b"two").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        let mode = std::fs::metadata(&b).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(TempFile(a.clone()));
        assert!(!a.exists());
    }
}
