//! `packer inspect`: what a packed tool or package contains.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use bundle::{payload::Payload, trailer};

use crate::{cli::InspectArgs, fsutil};

/// Runs `packer inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    let path = &args.file;
    let bytes = fsutil::read(path)?;
    let (kind, payload_bytes) =
        match trailer::payload_slice(&bytes).with_context(|| format!("{}", path.display()))? {
            Some(payload) => ("packed tool", payload),
            None => ("package", &bytes[..]),
        };
    let payload =
        Payload::from_bytes(payload_bytes).with_context(|| format!("{}", path.display()))?;
    let object = payload
        .package
        .object()
        .with_context(|| format!("{}", path.display()))?;
    let skel = &payload.package.meta.bpf_skel;

    println!("{}: {kind}", path.display());
    println!(
        "  object:   {} ({})",
        skel.obj_name,
        fsutil::human_size(object.len() as u64)
    );
    println!(
        "  payload:  {}",
        fsutil::human_size(payload_bytes.len() as u64)
    );
    let progs: Vec<String> = skel
        .progs
        .iter()
        .map(|p| format!("{} ({})", p.name, p.attach))
        .collect();
    println!("  programs: {}", none_if_empty(&progs));
    let maps: Vec<&str> = skel.maps.iter().map(|m| m.name.as_str()).collect();
    println!("  maps:     {}", none_if_empty(&maps));
    let events: Vec<String> = payload
        .package
        .meta
        .export_types
        .iter()
        .map(|t| {
            format!(
                "struct {} ({} bytes, {} members)",
                t.name,
                t.size,
                t.members.len()
            )
        })
        .collect();
    println!("  events:   {}", none_if_empty(&events));
    println!(
        "  kernels:  {} ({} unique BTFs)",
        payload.btfs.len(),
        payload.unique_btf_count()
    );
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for kernel in payload.btfs.keys() {
        groups
            .entry(format!(
                "{}/{}/{}",
                kernel.id, kernel.version_id, kernel.arch
            ))
            .or_default()
            .push(&kernel.release);
    }
    for (group, mut releases) in groups {
        releases.sort_by(|a, b| bundle::compare_releases(a, b));
        println!("    {group}: {}", releases.join(" "));
    }
    Ok(())
}

fn none_if_empty<T: AsRef<str>>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
