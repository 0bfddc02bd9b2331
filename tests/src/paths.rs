//! Locations of the artifacts under test.

use std::env;
use std::path::{Path, PathBuf};

use crate::privilege::in_ci;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The directory with the release `packer` and `launcher`: `BPFC_BIN_DIR`, else
/// `target/x86_64-unknown-linux-gnu/release` in the workspace.
pub fn bin_dir() -> PathBuf {
    match env::var_os("BPFC_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("target/x86_64-unknown-linux-gnu/release"),
    }
}

/// The directory with the compiled example objects: `BPFC_EXAMPLES_DIR`, else
/// `build/examples` in the workspace.
pub fn examples_dir() -> PathBuf {
    match env::var_os("BPFC_EXAMPLES_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("build/examples"),
    }
}

/// The sample btfhub archive: `BTFHUB_ARCHIVE`, else `../shared/btfhub-archive`
/// next to the workspace. `None` (with a notice on stderr) when it is absent;
/// tests then cover the host kernel only.
pub fn archive() -> Option<PathBuf> {
    let dir = match env::var_os("BTFHUB_ARCHIVE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("../shared/btfhub-archive"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: no sample btfhub archive at {} (set BTFHUB_ARCHIVE); \
             packing for the host kernel only",
            dir.display()
        );
        None
    }
}

/// Path of a required artifact. Missing: a skip (`None`, with a notice)
/// outside CI, a failure in CI, where `make test` must have built everything.
fn artifact(path: PathBuf, how: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    let msg = format!("{} is missing: run `{how}` first", path.display());
    assert!(!in_ci(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

/// The release `packer` binary, or `None` (skip notice) outside CI.
pub fn packer() -> Option<PathBuf> {
    artifact(bin_dir().join("packer"), "make build")
}

/// The release `launcher` binary, or `None` (skip notice) outside CI.
pub fn launcher() -> Option<PathBuf> {
    artifact(bin_dir().join("launcher"), "make build")
}

/// A compiled example object, e.g. `example("execsnoop")` for
/// `execsnoop.bpf.o`, or `None` (skip notice) outside CI.
pub fn example(name: &str) -> Option<PathBuf> {
    artifact(
        examples_dir().join(format!("{name}.bpf.o")),
        "make examples",
    )
}

/// A scratch directory removed on drop, readable by everyone (so tools in it
/// can run as an unprivileged user).
pub struct Tmp {
    dir: tempfile::TempDir,
}

impl Tmp {
    /// A new empty directory under the system temp dir.
    #[track_caller]
    pub fn new() -> Tmp {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("bpfc-e2e-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir: {e}"));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.path().display()));
        Tmp { dir }
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for Tmp {
    fn default() -> Self {
        Tmp::new()
    }
}
