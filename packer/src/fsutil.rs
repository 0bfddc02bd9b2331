//! File helpers: reading with the path in the error, atomic writes.

use std::{
    fs,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// Reads a whole file; the error names it.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `bytes` to a temporary file in `path`'s directory, sets `mode`,
/// and renames it over `path`, so readers never see a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".packer-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename the temporary file to {}", path.display()))?;
    Ok(())
}

/// The directory a file path lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `text` to stdout; a closed pipe (`packer inspect x | head`) is
/// not an error.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// A byte count for humans: `812 B`, `12.3 KiB`, `4.1 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(12 * 1024 + 300), "12.3 KiB");
        assert_eq!(human_size(5 << 20), "5.0 MiB");
    }

    #[test]
    fn atomic_write_sets_mode() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("tool");
        write_atomic(&path, b"abc", 0o755)?;
        assert_eq!(fs::read(&path)?, b"abc");
        assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o755);
        write_atomic(&path, b"de", 0o644)?;
        assert_eq!(fs::read(&path)?, b"de");
        assert_eq!(
            fs::read_dir(dir.path())?.count(),
            1,
            "no temporary left behind"
        );
        Ok(())
    }
}
