//! Where the package comes from: the payload appended to this executable
//! (a packed tool) or a file named on the command line (`launcher run`).

use crate::cli::PackageFormat;
use crate::errors::{Failure, Kind, ResultExt};
use bundle::payload::Payload;
use std::io::Read;
use std::path::{Path, PathBuf};

/// This executable, and the payload appended to it if there is one.
pub struct SelfImage {
    /// Path the executable was read from.
    pub path: PathBuf,
    /// The payload bytes; `None` for a plain launcher.
    pub payload: Option<Vec<u8>>,
}

/// Where the running executable is read from.
const PROC_SELF_EXE: &str = "/proc/self/exe";

/// The running executable, opened: `/proc/self/exe`, or `argv[0]` when
/// `/proc` is not mounted.
fn open_self() -> std::io::Result<(PathBuf, std::fs::File)> {
    let proc_exe = PathBuf::from(PROC_SELF_EXE);
    match std::fs::File::open(&proc_exe) {
        Ok(file) => Ok((proc_exe, file)),
        Err(proc_error) => match std::env::args_os().next().map(PathBuf::from) {
            Some(argv0) => std::fs::File::open(&argv0)
                .map(|file| (argv0, file))
                .map_err(|_| proc_error),
            None => Err(proc_error),
        },
    }
}

/// Read this executable's trailer (FORMAT.md §1.1) and payload.
pub fn read_self() -> Result<SelfImage, Failure> {
    let (path, mut file) = open_self().kind_ctx(Kind::Payload, || {
        format!(
            "cannot open this executable ({PROC_SELF_EXE}) to read its payload; is /proc mounted?"
        )
    })?;
    let payload = bundle::trailer::read_payload_from(&mut file).kind_ctx(Kind::Payload, || {
        format!(
            "{}: the bpf-compatible payload is corrupt or truncated; re-download the tool or rebuild it with `packer build`",
            path.display()
        )
    })?;
    Ok(SelfImage { path, payload })
}

/// Parse a payload read from `origin` (a packed tool or a package file).
pub fn parse_payload(bytes: &[u8], origin: &Path) -> Result<Payload, Failure> {
    Payload::from_bytes(bytes).kind_ctx(Kind::Payload, || {
        format!(
            "{}: not a valid bpf-compatible/eunomia package; re-download it or rebuild it with `packer build`",
            origin.display()
        )
    })
}

/// Read and parse the package named on the `launcher run` command line
/// (`package.json`, a tar, tar.gz or tar.xz; `-` = standard input). With
/// `format`, the content must be of that form.
pub fn read_package(path: &Path, format: Option<PackageFormat>) -> Result<Payload, Failure> {
    let stdin = path == Path::new("-");
    let bytes = if stdin {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .kind_ctx(Kind::Payload, || {
                "cannot read the package from standard input"
            })?;
        buf
    } else {
        std::fs::read(path).kind_ctx(Kind::Payload, || {
            format!("cannot read package {}", path.display())
        })?
    };
    let origin = if stdin {
        PathBuf::from("<stdin>")
    } else {
        path.to_path_buf()
    };
    check_format(&bytes, format, &origin)?;
    parse_payload(&bytes, &origin)
}

/// With `--format json` the input must be a JSON object, with `--format tar`
/// it must not be one.
fn check_format(bytes: &[u8], format: Option<PackageFormat>, origin: &Path) -> Result<(), Failure> {
    let json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    let problem = match format {
        Some(PackageFormat::Json) if !json => "--format json, but the input is not a JSON object",
        Some(PackageFormat::Tar) if json => {
            "--format tar, but the input is JSON (use --format json)"
        }
        _ => return Ok(()),
    };
    Err(Failure::new(
        Kind::Payload,
        format!("{}: {problem}", origin.display()),
    ))
}

/// The message for an executable that should carry a payload but does not.
pub fn missing_payload_message(exe_name: &str) -> String {
    format!(
        "{exe_name}: this file has no bpf-compatible payload: it was probably stripped \
         (strip/objcopy drop appended data) after packing; re-run `packer build` and do not strip the result. \
         To run a package file with the plain launcher use `{exe_name} run PKG.json|PKG.tar`"
    )
}
