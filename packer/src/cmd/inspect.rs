//! `packer inspect`: what a packed tool or package contains.

use std::{collections::BTreeMap, fmt::Write as _};

use anyhow::{Context, Result};
use bundle::{payload::Payload, trailer};

use crate::{cli::InspectArgs, fsutil};

/// Runs `packer inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    let path = &args.file;
    let bytes = fsutil::read(path)?;
    let context = || format!("{}", path.display());
    let (kind, payload_bytes) = match trailer::payload_slice(&bytes).with_context(context)? {
        Some(payload) => ("packed tool", payload),
        None => ("package", &bytes[..]),
    };
    let payload = Payload::from_bytes(payload_bytes).with_context(context)?;
    let object = payload.package.object().with_context(context)?;
    let meta = &payload.package.meta;
    let skel = &meta.bpf_skel;

    let progs: Vec<String> = skel
        .progs
        .iter()
        .map(|p| format!("{} ({})", p.name, p.attach))
        .collect();
    let maps: Vec<&str> = skel.maps.iter().map(|m| m.name.as_str()).collect();
    let events: Vec<String> = meta
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

    let mut out = String::new();
    writeln!(out, "{}: {kind}", path.display())?;
    let object_size = fsutil::human_size(object.len() as u64);
    writeln!(out, "  object:   {} ({object_size})", skel.obj_name)?;
    let payload_size = fsutil::human_size(payload_bytes.len() as u64);
    writeln!(out, "  payload:  {payload_size}")?;
    writeln!(out, "  programs: {}", none_if_empty(&progs))?;
    writeln!(out, "  maps:     {}", none_if_empty(&maps))?;
    writeln!(out, "  events:   {}", none_if_empty(&events))?;
    let (kernels, unique) = (payload.btfs.len(), payload.unique_btf_count());
    writeln!(out, "  kernels:  {kernels} ({unique} unique BTFs)")?;

    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for k in payload.btfs.keys() {
        let group = format!("{}/{}/{}", k.id, k.version_id, k.arch);
        groups.entry(group).or_default().push(&k.release);
    }
    for (group, mut releases) in groups {
        releases.sort_by(|a, b| bundle::compare_releases(a, b));
        writeln!(out, "    {group}: {}", releases.join(" "))?;
    }
    fsutil::print_stdout(&out)
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
