//! `packer kernels`: which kernels `--kernels` can select, per
//! distribution; for a `packer fetch` clone also those it has not fetched.

use std::{collections::BTreeMap, fmt::Write as _};

use anyhow::{bail, Result};
use bundle::{btfhub::Archive, identity::KernelId};

use crate::{cli::KernelsArgs, clone, cmd::fetch::group_summary, fsutil, kernel};

/// Runs `packer kernels`.
pub fn run(args: KernelsArgs) -> Result<()> {
    let selectors = args.selectors()?;
    let dir = kernel::btfhub_dir(args.btfhub.as_deref())?;
    let archive = Archive::scan(&dir.path)?;
    // kernel -> fetched?
    let mut known: BTreeMap<KernelId, bool> = archive
        .entries
        .iter()
        .map(|e| (e.kernel.clone(), true))
        .collect();
    if clone::is_clone(&dir.path) {
        match clone::listed_kernels(&dir.path) {
            Ok(listed) => {
                for k in listed {
                    known.entry(k).or_insert(false);
                }
            }
            Err(e) => log::warn!("{e:#}; listing the fetched kernels only"),
        }
    }
    known.retain(|k, _| selectors.iter().any(|s| s.matches(k)));
    if known.is_empty() {
        let all: Vec<KernelId> = archive.entries.iter().map(|e| e.kernel.clone()).collect();
        bail!(
            "no kernel in {} matches {}; it has: {}",
            dir.path.display(),
            args.selectors.join(" "),
            group_summary(&all)
        );
    }

    let mut groups: BTreeMap<String, Vec<(&str, bool)>> = BTreeMap::new();
    for (k, fetched) in &known {
        let group = format!("{}/{}/{}", k.id, k.version_id, k.arch);
        groups
            .entry(group)
            .or_default()
            .push((&k.release, *fetched));
    }
    let mut out = String::new();
    writeln!(out, "{}:", dir.path.display())?;
    for (group, mut releases) in groups {
        releases.sort_by(|a, b| bundle::compare_releases(a.0, b.0));
        let fetched = releases.iter().filter(|r| r.1).count();
        let total = releases.len();
        let state = if fetched == total {
            String::new()
        } else if fetched == 0 {
            format!(", not fetched: packer fetch --kernels {group}")
        } else {
            format!(", {fetched} fetched; * = not fetched")
        };
        writeln!(
            out,
            "  {group} ({total} kernel{}{state})",
            if total == 1 { "" } else { "s" }
        )?;
        let names: Vec<String> = releases
            .iter()
            .map(|(r, f)| {
                if *f || fetched == 0 {
                    (*r).to_owned()
                } else {
                    format!("{r}*")
                }
            })
            .collect();
        writeln!(out, "    {}", names.join(" "))?;
    }
    fsutil::print_stdout(&out)
}
