//! `packer fetch`: bring the selected kernels of a btfhub-archive git
//! repository into the cache, downloading nothing else.

use std::{collections::BTreeSet, ffi::OsStr, fs, io::IsTerminal, path::Path};

use anyhow::{bail, Context, Result};
use bundle::{btfhub::KernelSelector, identity::KernelId};

use crate::{
    cli::{FetchArgs, DEFAULT_REPO},
    clone::{self, CloneLock},
    dirs, git,
};

/// Runs `packer fetch`.
pub fn run(args: FetchArgs) -> Result<()> {
    let selectors = args.selectors()?;
    if selectors.contains(&KernelSelector::Host) {
        bail!(
            "--kernels host means this machine's own /sys/kernel/btf/vmlinux, which needs no \
             fetch; name archive kernels (e.g. ubuntu/20.04)"
        );
    }
    let dir = match &args.cache {
        Some(dir) => dir.clone(),
        None => dirs::btfhub_cache()?,
    };
    let parent = crate::fsutil::parent_dir(&dir);
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the cache directory {}", parent.display()))?;
    let _lock = CloneLock::acquire(&dir)?;

    if clone::is_clone(&dir) {
        update(&dir, args.repo.as_deref())?;
    } else {
        create(&dir, args.repo.as_deref().unwrap_or(DEFAULT_REPO))?;
    }

    let listed = clone::listed_kernels(&dir)?;
    let selected = check_selectors(&dir, &selectors, &listed)?;
    let mut patterns = clone::current_patterns(&dir)?;
    let before = patterns.len();
    for pattern in selectors.iter().flat_map(clone::patterns) {
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    if patterns.len() > before {
        git::say(&format!(
            "fetch: downloading {} kernel{} ({})",
            selected.len(),
            if selected.len() == 1 { "" } else { "s" },
            selectors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    clone::set_patterns(&dir, &patterns)?;

    let archive = bundle::btfhub::Archive::scan(&dir)?;
    let missing: Vec<&KernelId> = selected
        .iter()
        .filter(|k| !archive.entries.iter().any(|e| &e.kernel == *k))
        .collect();
    if let Some(first) = missing.first() {
        bail!(
            "{} selected kernel{} did not arrive in {} (first: {first}); fetch again",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            dir.display()
        );
    }
    crate::fsutil::print_stdout(&format!(
        "{} kernel{} selected; the cache {} now has {}\n",
        selected.len(),
        if selected.len() == 1 { "" } else { "s" },
        dir.display(),
        archive.summary()
    ))
}

/// Clones `repo` into `dir`: blob-less, shallow and sparse (nothing but
/// the top-level files checked out yet). The clone is made next to `dir`
/// and renamed into place, so a killed fetch leaves no half clone at `dir`.
fn create(dir: &Path, repo: &str) -> Result<()> {
    if dir.exists() && fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        bail!(
            "{} exists and is not a git clone; remove it or pass --cache with another directory",
            dir.display()
        );
    }
    let url = clone::repo_url(repo)?;
    let partial = clone::sibling(dir, "partial");
    if partial.exists() {
        // Left by a killed fetch (we hold the lock).
        fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove the stale {}", partial.display()))?;
    }
    git::say(&format!(
        "fetch: cloning {url} into {} (file list only; kernels are downloaded as selected)",
        dir.display()
    ));
    let mut args: Vec<&OsStr> = vec![
        "clone".as_ref(),
        "--filter=blob:none".as_ref(),
        "--sparse".as_ref(),
        "--depth=1".as_ref(),
        "--no-tags".as_ref(),
    ];
    if std::io::stderr().is_terminal() {
        args.push("--progress".as_ref());
    }
    args.extend([OsStr::new("--"), OsStr::new(&url), partial.as_os_str()]);
    let hint = format!(
        "check that {repo} is a btfhub-archive git repository you can reach (URL or path, \
         network), or pass --repo"
    );
    if let Err(e) = git::run(None, &args, &hint) {
        let _ = fs::remove_dir_all(&partial);
        return Err(e);
    }
    if dir.exists() {
        // An empty directory was there.
        fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    fs::rename(&partial, dir).with_context(|| {
        format!(
            "cannot move the clone {} to {}",
            partial.display(),
            dir.display()
        )
    })
}

/// Brings an existing clone to the repository's latest commit (files
/// outside the sparse patterns stay undownloaded).
fn update(dir: &Path, repo: Option<&str>) -> Result<()> {
    let origin = clone::origin(dir)?;
    if let Some(repo) = repo {
        let wanted = clone::repo_url(repo)?;
        if wanted != origin {
            bail!(
                "{} is a clone of {origin}, not {wanted}; pass --cache with another directory for \
                 another repository",
                dir.display()
            );
        }
    }
    git::say(&format!("fetch: updating {} from {origin}", dir.display()));
    let mut args: Vec<&OsStr> = vec!["fetch".as_ref(), "--depth=1".as_ref(), "--no-tags".as_ref()];
    if std::io::stderr().is_terminal() {
        args.push("--progress".as_ref());
    }
    args.extend([OsStr::new("origin"), OsStr::new("HEAD")]);
    git::run(
        Some(dir),
        &args,
        &format!("check that {origin} is reachable (network, URL), or pass --cache elsewhere"),
    )?;
    git::run(
        Some(dir),
        &[
            "reset".as_ref(),
            "--hard".as_ref(),
            "--quiet".as_ref(),
            "FETCH_HEAD".as_ref(),
        ],
        "the clone may be damaged: remove it and fetch again",
    )
}

/// The kernels `selectors` name in the clone's listing; a selector that
/// names none is an error listing what the repository has.
fn check_selectors(
    dir: &Path,
    selectors: &[KernelSelector],
    listed: &[KernelId],
) -> Result<Vec<KernelId>> {
    let mut selected = BTreeSet::new();
    for selector in selectors {
        let matching: Vec<&KernelId> = listed.iter().filter(|k| selector.matches(k)).collect();
        if matching.is_empty() {
            bail!(
                "'{selector}' matches no kernel in the repository cloned at {}; it has: {}",
                dir.display(),
                group_summary(listed)
            );
        }
        selected.extend(matching.into_iter().cloned());
    }
    Ok(selected.into_iter().collect())
}

/// `ID/VERSION_ID/ARCH (N kernels), ...`, or a note that there are none.
pub fn group_summary(kernels: &[KernelId]) -> String {
    let mut groups: std::collections::BTreeMap<String, usize> = Default::default();
    for k in kernels {
        *groups
            .entry(format!("{}/{}/{}", k.id, k.version_id, k.arch))
            .or_default() += 1;
    }
    if groups.is_empty() {
        return "no kernels (ID/VERSION_ID/ARCH/RELEASE.btf.tar.xz files); is it btfhub-archive?"
            .to_owned();
    }
    groups
        .into_iter()
        .map(|(g, n)| format!("{g} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}
