//! Kernel selectors (`ID[/VERSION_ID[/ARCH[/RELEASE]]]`, `all`, `host`) and
//! scanning a btfhub-archive directory laid out as
//! `<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf[.tar.xz]`.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use crate::{identity::KernelId, Error};

/// One `--kernels` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSelector {
    /// Every kernel in the archive.
    All,
    /// This machine's own `/sys/kernel/btf/vmlinux`, filed under its identity.
    Host,
    /// Kernels whose leading path components equal these (1 to 4 of `ID`,
    /// `VERSION_ID`, `ARCH`, `RELEASE`).
    Prefix(Vec<String>),
}

impl KernelSelector {
    /// Whether an archive kernel matches (never true for [`KernelSelector::Host`]).
    pub fn matches(&self, kernel: &KernelId) -> bool {
        match self {
            KernelSelector::All => true,
            KernelSelector::Host => false,
            KernelSelector::Prefix(parts) => {
                let fields = [
                    &kernel.id,
                    &kernel.version_id,
                    &kernel.arch,
                    &kernel.release,
                ];
                parts.iter().zip(fields).all(|(want, have)| want == have)
            }
        }
    }
}

impl FromStr for KernelSelector {
    type Err = Error;

    fn from_str(s: &str) -> Result<KernelSelector, Error> {
        let invalid = |reason: &str| Error::InvalidSelector {
            selector: s.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = s.trim().trim_end_matches('/');
        match trimmed {
            "all" => return Ok(KernelSelector::All),
            "host" => return Ok(KernelSelector::Host),
            "" => return Err(invalid("it is empty")),
            _ => {}
        }
        if trimmed.starts_with('/') {
            return Err(invalid("it starts with '/' (a selector is not a path)"));
        }
        let mut parts: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
        if parts.len() > 4 {
            return Err(invalid("it has more than 4 components"));
        }
        if let Some(last) = parts.get_mut(3) {
            for suffix in [".btf.tar.xz", ".btf"] {
                if let Some(stripped) = last.strip_suffix(suffix) {
                    *last = stripped.to_owned();
                    break;
                }
            }
        }
        for (i, part) in parts.iter().enumerate() {
            // VERSION_ID (index 1) may be empty, as for Arch Linux.
            if (part.is_empty() && i != 1) || part == "." || part == ".." {
                return Err(invalid(&format!("component {} is '{part}'", i + 1)));
            }
        }
        Ok(KernelSelector::Prefix(parts))
    }
}

impl fmt::Display for KernelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelSelector::All => f.write_str("all"),
            KernelSelector::Host => f.write_str("host"),
            KernelSelector::Prefix(parts) => f.write_str(&parts.join("/")),
        }
    }
}

/// How a kernel's BTF is stored in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// `<RELEASE>.btf`: raw BTF (or ELF).
    Raw,
    /// `<RELEASE>.btf.tar.xz`: btfhub's compressed form.
    TarXz,
}

/// One kernel found in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// The kernel.
    pub kernel: KernelId,
    /// The file holding its BTF.
    pub path: PathBuf,
    /// How it is stored.
    pub storage: Storage,
}

/// A scanned btfhub-archive directory.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The archive's root directory.
    pub root: PathBuf,
    /// Kernels, sorted by identity; when both `.btf` and `.btf.tar.xz` exist
    /// for one kernel, the raw `.btf` is kept.
    pub entries: Vec<ArchiveEntry>,
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, Error> {
    let read_err = |source| Error::ArchiveRead {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Follows symlinks, so a symlinked archive or file works.
        let is_dir = entry.path().is_dir();
        out.push((name, entry.path(), is_dir));
    }
    out.sort();
    Ok(out)
}

impl Archive {
    /// Scans `root` for `<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf` and
    /// `.btf.tar.xz` files. Other files (README, LICENSE, .git) are ignored.
    pub fn scan(root: &Path) -> Result<Archive, Error> {
        let mut found: BTreeMap<KernelId, ArchiveEntry> = BTreeMap::new();
        for (id, id_path, id_dir) in read_dir_sorted(root)? {
            if !id_dir {
                continue;
            }
            for (ver, ver_path, ver_dir) in read_dir_sorted(&id_path)? {
                if !ver_dir {
                    continue;
                }
                for (arch, arch_path, arch_dir) in read_dir_sorted(&ver_path)? {
                    if !arch_dir {
                        continue;
                    }
                    for (file, path, is_dir) in read_dir_sorted(&arch_path)? {
                        if is_dir {
                            continue;
                        }
                        let (release, storage) = if let Some(r) = file.strip_suffix(".btf.tar.xz") {
                            (r, Storage::TarXz)
                        } else if let Some(r) = file.strip_suffix(".btf") {
                            (r, Storage::Raw)
                        } else {
                            continue;
                        };
                        let kernel = KernelId {
                            id: id.clone(),
                            version_id: ver.clone(),
                            arch: arch.clone(),
                            release: release.to_owned(),
                        };
                        let entry = ArchiveEntry {
                            kernel: kernel.clone(),
                            path,
                            storage,
                        };
                        let keep_existing = found
                            .get(&kernel)
                            .is_some_and(|e| e.storage == Storage::Raw);
                        if !keep_existing {
                            found.insert(kernel, entry);
                        }
                    }
                }
            }
        }
        Ok(Archive {
            root: root.to_path_buf(),
            entries: found.into_values().collect(),
        })
    }

    /// The entries matching any of `selectors`, sorted and without
    /// duplicates. [`KernelSelector::Host`] is skipped (the caller reads
    /// `/sys/kernel/btf/vmlinux`). A selector that matches nothing is an
    /// error listing what the archive has.
    pub fn select(&self, selectors: &[KernelSelector]) -> Result<Vec<&ArchiveEntry>, Error> {
        let mut chosen = vec![false; self.entries.len()];
        for selector in selectors {
            if *selector == KernelSelector::Host {
                continue;
            }
            let mut any = false;
            for (entry, chosen) in self.entries.iter().zip(chosen.iter_mut()) {
                if selector.matches(&entry.kernel) {
                    *chosen = true;
                    any = true;
                }
            }
            if !any {
                return Err(Error::SelectorMatchesNothing {
                    selector: selector.to_string(),
                    archive: self.root.clone(),
                    available: self.summary(),
                });
            }
        }
        Ok(self
            .entries
            .iter()
            .zip(chosen)
            .filter_map(|(e, c)| c.then_some(e))
            .collect())
    }

    /// What the archive has, as `ID/VERSION_ID/ARCH (N kernels)` groups, or
    /// a note that it is empty.
    pub fn summary(&self) -> String {
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for e in &self.entries {
            let k = &e.kernel;
            *groups
                .entry(format!("{}/{}/{}", k.id, k.version_id, k.arch))
                .or_default() += 1;
        }
        if groups.is_empty() {
            return "nothing (no <ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf[.tar.xz] files; is this a btfhub-archive checkout?)".to_owned();
        }
        groups
            .into_iter()
            .map(|(g, n)| format!("{g} ({n} kernel{})", if n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> KernelSelector {
        s.parse().unwrap()
    }

    #[test]
    fn parse_selectors() {
        assert_eq!(sel("all"), KernelSelector::All);
        assert_eq!(sel("host"), KernelSelector::Host);
        assert_eq!(
            sel("ubuntu/"),
            KernelSelector::Prefix(vec!["ubuntu".into()])
        );
        assert_eq!(
            sel("ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz"),
            KernelSelector::Prefix(
                ["ubuntu", "20.04", "x86_64", "5.4.0-26-generic"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(sel("arch//x86_64").to_string(), "arch//x86_64");
        for bad in [
            "",
            "/",
            "/ubuntu",
            "a/b/c/d/e",
            "ubuntu/../x",
            "/x86_64",
            "a/1//r",
        ] {
            let e = bad.parse::<KernelSelector>().unwrap_err().to_string();
            assert!(
                e.contains("invalid kernel selector") && e.contains("ID[/VERSION_ID"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn matching() {
        let k = KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic");
        assert!(sel("ubuntu").matches(&k));
        assert!(sel("ubuntu/20.04/x86_64").matches(&k));
        assert!(!sel("ubuntu/20.0").matches(&k));
        assert!(!sel("ubuntu/20.04/arm64").matches(&k));
        assert!(!sel("host").matches(&k));
        assert!(sel("all").matches(&k));
    }

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, rel).unwrap();
    }

    #[test]
    fn scan_and_select() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "README.md");
        touch(root, ".git/config");
        touch(root, "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz");
        touch(root, "ubuntu/20.04/x86_64/5.4.0-26-generic.btf");
        touch(root, "ubuntu/20.04/x86_64/5.8.0-1-generic.btf.tar.xz");
        touch(root, "ubuntu/20.04/x86_64/notes.txt");
        touch(root, "centos/8/x86_64/4.18.0-80.el8.x86_64.btf.tar.xz");
        touch(root, "centos/8/arm64/4.18.0-80.el8.aarch64.btf.tar.xz");
        let archive = Archive::scan(root).unwrap();
        let names: Vec<String> = archive
            .entries
            .iter()
            .map(|e| e.kernel.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "centos/8/arm64/4.18.0-80.el8.aarch64",
                "centos/8/x86_64/4.18.0-80.el8.x86_64",
                "ubuntu/20.04/x86_64/5.4.0-26-generic",
                "ubuntu/20.04/x86_64/5.8.0-1-generic",
            ]
        );
        assert_eq!(
            archive.entries[2].storage,
            Storage::Raw,
            "raw .btf preferred"
        );

        let picked = archive
            .select(&[
                sel("ubuntu"),
                sel("centos/8/x86_64"),
                sel("host"),
                sel("ubuntu/20.04"),
            ])
            .unwrap();
        assert_eq!(picked.len(), 3);
        assert_eq!(archive.select(&[sel("all")]).unwrap().len(), 4);
        assert!(archive.select(&[sel("host")]).unwrap().is_empty());

        let e = archive
            .select(&[sel("ubuntu"), sel("debian/11")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'debian/11' matches no kernel"), "{e}");
        assert!(
            e.contains("centos/8/arm64 (1 kernel), centos/8/x86_64 (1 kernel), ubuntu/20.04/x86_64 (2 kernels)"),
            "{e}"
        );
    }

    #[test]
    fn scan_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = Archive::scan(&missing).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let empty = Archive::scan(dir.path()).unwrap();
        let e = empty.select(&[sel("all")]).unwrap_err().to_string();
        assert!(e.contains("is this a btfhub-archive checkout"), "{e}");
    }
}
