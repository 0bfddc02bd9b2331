//! The kernels the oracle and the bench run against: every `.btf.tar.xz` of the sample
//! archive (decoded with `btf::decode_kernel_btf`), the host's BTF and the synthetic kernels.

use std::path::{Path, PathBuf};

use super::env;

/// One kernel BTF, as a raw BTF file on disk (bpftool's input) and in memory.
pub struct Kernel {
    /// "ubuntu/20.04/x86_64/5.4.0-91-generic", "host" or "synthetic/NAME".
    pub label: String,
    /// The raw BTF file.
    pub raw_path: PathBuf,
    /// Its bytes.
    pub raw: Vec<u8>,
}

/// Every `*.btf.tar.xz` (or `*.btf`) under the archive, sorted.
pub fn archive_files(archive: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".btf.tar.xz") || n.ends_with(".btf"))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(archive, &mut files);
    files.sort();
    files
}

/// "ubuntu/20.04/x86_64/5.4.0-91-generic" for `<archive>/ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz`.
pub fn archive_label(archive: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(archive).unwrap_or(file).to_string_lossy();
    rel.trim_end_matches(".tar.xz")
        .trim_end_matches(".btf")
        .to_string()
}

/// Decode every archive kernel into `dir/<label with / → _>.btf`. A kernel our decoder rejects
/// is a test failure (the archive is real btfhub data).
pub fn archive_kernels(dir: &Path) -> Vec<Kernel> {
    let Some(archive) = env::archive_dir() else {
        return Vec::new();
    };
    archive_files(&archive)
        .iter()
        .map(|file| {
            let label = archive_label(&archive, file);
            let input = env::read(file);
            let raw = btf::decode_kernel_btf(&input).unwrap_or_else(|e| {
                panic!("btf::decode_kernel_btf({}) failed: {e}", file.display())
            });
            let raw_path = dir.join(format!("{}.btf", label.replace('/', "_")));
            env::write_atomic(&raw_path, &raw);
            Kernel {
                label,
                raw_path,
                raw,
            }
        })
        .collect()
}

/// The host kernel's BTF, if readable (copied, so bpftool and we read the same bytes).
pub fn host_kernel(dir: &Path) -> Option<Kernel> {
    match std::fs::read(env::HOST_BTF) {
        Ok(raw) => {
            let raw_path = dir.join("host.btf");
            env::write_atomic(&raw_path, &raw);
            Some(Kernel {
                label: "host".into(),
                raw_path,
                raw,
            })
        }
        Err(e) => {
            eprintln!(
                "notice: {} not readable ({e}); host kernel skipped",
                env::HOST_BTF
            );
            None
        }
    }
}

/// The synthetic kernels of [`super::synthetic`], written to `dir`.
pub fn synthetic_kernels(dir: &Path) -> Vec<Kernel> {
    super::synthetic::all()
        .into_iter()
        .map(|(name, raw)| {
            let raw_path = dir.join(format!("synthetic_{name}.btf"));
            env::write_atomic(&raw_path, &raw);
            Kernel {
                label: format!("synthetic/{name}"),
                raw_path,
                raw,
            }
        })
        .collect()
}

/// Archive kernels, then the host, then the synthetic kernels.
pub fn all_kernels(dir: &Path) -> Vec<Kernel> {
    let mut kernels = archive_kernels(dir);
    kernels.extend(host_kernel(dir));
    kernels.extend(synthetic_kernels(dir));
    kernels
}
