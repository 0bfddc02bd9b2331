//! The `packer fetch` cache: a sparse, blob-less, shallow git clone of
//! btfhub-archive. Its trees name every kernel of the repository while only
//! the files matching the sparse-checkout patterns are downloaded.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use bundle::{btfhub::KernelSelector, identity::KernelId};
use nix::fcntl::{Flock, FlockArg};

use crate::git;

/// Whether `dir` is the top of a git work tree (a `packer fetch` clone or
/// any btfhub-archive checkout).
pub fn is_clone(dir: &Path) -> bool {
    dir.join(".git").exists()
}

/// Every kernel the clone's current commit has, fetched or not (read from
/// git's trees, which a blob-less clone has in full; nothing is
/// downloaded).
pub fn listed_kernels(dir: &Path) -> Result<Vec<KernelId>> {
    let listing = git::output(
        Some(dir),
        &[
            "ls-tree".as_ref(),
            "-r".as_ref(),
            "--name-only".as_ref(),
            "-z".as_ref(),
            "HEAD".as_ref(),
        ],
    )
    .with_context(|| format!("cannot list the kernels of the clone {}", dir.display()))?;
    let mut kernels: Vec<KernelId> = listing
        .split('\0')
        .filter(|p| p.split('/').count() == 4)
        .filter_map(KernelId::from_relative_path)
        .collect();
    kernels.sort();
    kernels.dedup();
    Ok(kernels)
}

/// The sparse-checkout patterns (gitignore syntax, non-cone mode) that
/// bring exactly the kernels `selector` names. `host` has none.
pub fn patterns(selector: &KernelSelector) -> Vec<String> {
    match selector {
        KernelSelector::All => vec!["/*".to_owned()],
        KernelSelector::Host => Vec::new(),
        KernelSelector::Prefix(parts) => {
            let escaped: Vec<String> = parts.iter().map(|p| escape(p)).collect();
            let path = escaped.join("/");
            if parts.len() == 4 {
                vec![format!("/{path}.btf.tar.xz"), format!("/{path}.btf")]
            } else {
                vec![format!("/{path}/")]
            }
        }
    }
}

/// Escapes the gitignore wildcards in a path component.
fn escape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for c in component.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The patterns `packer fetch` set before (in order), none for a fresh
/// clone (whose cone-mode patterns only keep the top-level files).
pub fn current_patterns(dir: &Path) -> Result<Vec<String>> {
    let cone = git::output(
        Some(dir),
        &[
            "config".as_ref(),
            "--bool".as_ref(),
            "--default=false".as_ref(),
            "core.sparseCheckoutCone".as_ref(),
        ],
    )?;
    if cone.trim() == "true" {
        return Ok(Vec::new());
    }
    let file = git::output(
        Some(dir),
        &[
            "rev-parse".as_ref(),
            "--git-path".as_ref(),
            "info/sparse-checkout".as_ref(),
        ],
    )?;
    let path = dir.join(file.trim());
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Sets the clone's sparse-checkout patterns (non-cone mode, all of them
/// positive, so their order does not matter); git then downloads and checks
/// out the files they match.
pub fn set_patterns(dir: &Path, patterns: &[String]) -> Result<()> {
    // On standard input: any number of patterns, whatever they look like.
    let mut input = patterns.join("\n");
    input.push('\n');
    git::run_with_input(
        Some(dir),
        &[
            "sparse-checkout".as_ref(),
            "set".as_ref(),
            "--no-cone".as_ref(),
            "--stdin".as_ref(),
        ],
        input.as_bytes(),
        "the repository may be unreachable (check your network) or the clone damaged \
         (remove it and fetch again)",
    )
}

/// The clone's `origin` URL.
pub fn origin(dir: &Path) -> Result<String> {
    Ok(git::output(
        Some(dir),
        &["remote".as_ref(), "get-url".as_ref(), "origin".as_ref()],
    )?
    .trim()
    .to_owned())
}

/// `--repo` as git should see it: an existing local directory becomes an
/// absolute `file://` URL (git ignores `--filter` and `--depth` for plain
/// local paths); anything else is passed as it is.
pub fn repo_url(repo: &str) -> Result<String> {
    let path = Path::new(repo);
    if !repo.contains("://") && path.is_dir() {
        let abs = path
            .canonicalize()
            .with_context(|| format!("--repo {repo}: cannot resolve the path"))?;
        return Ok(format!("file://{}", abs.display()));
    }
    Ok(repo.to_owned())
}

/// An exclusive lock on a clone, held while it is created or changed, so
/// concurrent `packer fetch` runs take turns.
pub struct CloneLock {
    _lock: Flock<File>,
}

impl CloneLock {
    /// Locks `<parent>/.<name>.lock` for the clone at `dir`, waiting (with a
    /// message) while another packer holds it.
    pub fn acquire(dir: &Path) -> Result<CloneLock> {
        let path = sibling(dir, "lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot create the lock file {}", path.display()))?;
        let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(CloneLock { _lock: lock }),
            Err((file, nix::errno::Errno::EWOULDBLOCK)) => {
                git::say(&format!(
                    "waiting for another packer fetch to finish with {}",
                    dir.display()
                ));
                file
            }
            Err((_, e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        };
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(CloneLock { _lock: lock })
    }
}

/// `<parent>/.<name>.<suffix>`: a hidden file or directory next to `dir`.
pub fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "btfhub".to_owned());
    crate::fsutil::parent_dir(dir).join(format!(".{name}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> KernelSelector {
        s.parse().unwrap()
    }

    #[test]
    fn patterns_per_selector() {
        assert_eq!(patterns(&sel("all")), ["/*"]);
        assert!(patterns(&sel("host")).is_empty());
        assert_eq!(patterns(&sel("ubuntu/20.04")), ["/ubuntu/20.04/"]);
        assert_eq!(
            patterns(&sel("centos/8/x86_64/4.18.0-80.el8.x86_64")),
            [
                "/centos/8/x86_64/4.18.0-80.el8.x86_64.btf.tar.xz",
                "/centos/8/x86_64/4.18.0-80.el8.x86_64.btf"
            ]
        );
        assert_eq!(patterns(&sel("we*rd/1[2]")), [r"/we\*rd/1\[2\]/"]);
    }

    #[test]
    fn local_paths_become_file_urls() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let url = repo_url(&dir.path().display().to_string())?;
        assert!(url.starts_with("file:///"), "{url}");
        assert_eq!(
            repo_url("https://example.invalid/x.git")?,
            "https://example.invalid/x.git"
        );
        Ok(())
    }
}
