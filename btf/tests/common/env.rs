//! Locations of the test inputs and of the scratch directory.

use std::path::{Path, PathBuf};

/// The repository root (the parent of the `btf` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A scratch directory shared by all test binaries of this crate (kept between runs so the
/// decoded kernels and compiled objects are cached).
pub fn work_dir() -> PathBuf {
    let dir = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("btf-tests");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!(
            "cannot create the test scratch directory {}: {e}",
            dir.display()
        );
    }
    dir
}

/// A fresh subdirectory of [`work_dir`] for one test run of one process.
pub fn run_dir(name: &str) -> PathBuf {
    let dir = work_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

/// True when running in CI, where missing oracles are failures instead of skips.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The btfhub sample archive: `$BTFHUB_ARCHIVE` or `<repo>/../shared/btfhub-archive`.
pub fn archive_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BTFHUB_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/btfhub-archive"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: no btfhub sample archive at {} (set BTFHUB_ARCHIVE); archive kernels skipped",
            dir.display()
        );
        None
    }
}

/// The directory of compiled example objects: `$BPFC_EXAMPLES_DIR` or `<repo>/build/examples`.
pub fn examples_dir() -> PathBuf {
    std::env::var_os("BPFC_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/examples"))
}

/// The host's kernel BTF, when readable.
pub const HOST_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Write `bytes` to `path` through a temporary name in the same directory and a rename, so
/// concurrent test binaries never see a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// Read a file or panic naming it.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Remove a run directory, unless `BPFC_KEEP_TEST_DIRS` is set (to inspect the files).
pub fn cleanup(dir: &Path) {
    if std::env::var_os("BPFC_KEEP_TEST_DIRS").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    } else {
        eprintln!("kept {}", dir.display());
    }
}
