//! `packer inspect`: what a packed tool or package contains.

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
};

use anyhow::{Context, Result};
use bundle::{codec::Codec, payload::Payload, trailer};

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
    let layout = if payload.is_tool_layout() {
        ", tool layout: object member + BTF pack".to_owned()
    } else {
        String::new()
    };
    let codec = match Codec::sniff(payload_bytes) {
        Codec::None if payload_bytes.first() == Some(&b'{') => "package.json".to_owned(),
        Codec::None => format!("uncompressed tar{layout}"),
        codec => format!("{codec}-compressed tar{layout}"),
    };
    writeln!(out, "  payload:  {payload_size} ({codec})")?;
    if let Some(share) = btf_share(&payload, payload_bytes) {
        writeln!(
            out,
            "  BTF share: {share} bytes of the payload (the same payload without BTFs is {} bytes)",
            payload_bytes.len() as u64 - share
        )?;
    }
    writeln!(out, "  programs: {}", none_if_empty(&progs))?;
    writeln!(out, "  maps:     {}", none_if_empty(&maps))?;
    writeln!(out, "  events:   {}", none_if_empty(&events))?;
    let (kernels, unique) = (payload.btfs.len(), payload.unique_btf_count());
    let btfs = payload.btfs.load_all().with_context(context)?;
    let unique_bytes: u64 = {
        let mut seen = HashSet::new();
        btfs.values()
            .filter(|b| seen.insert(&b[..]))
            .map(|b| b.len() as u64)
            .sum()
    };
    writeln!(
        out,
        "  kernels:  {kernels} ({unique} unique BTF{}, {} uncompressed)",
        if unique == 1 { "" } else { "s" },
        fsutil::human_size(unique_bytes)
    )?;

    let mut groups: BTreeMap<String, Vec<(&str, &[u8])>> = BTreeMap::new();
    for (k, btf) in &btfs {
        let group = format!("{}/{}/{}", k.id, k.version_id, k.arch);
        groups.entry(group).or_default().push((&k.release, btf));
    }
    for (group, mut releases) in groups {
        releases.sort_by(|a, b| bundle::compare_releases(a.0, b.0));
        let distinct: HashSet<&[u8]> = releases.iter().map(|r| r.1).collect();
        let names: Vec<&str> = releases.iter().map(|r| r.0).collect();
        writeln!(
            out,
            "    {group}: {} kernel{}, {} unique BTF{}: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            distinct.len(),
            if distinct.len() == 1 { "" } else { "s" },
            names.join(" ")
        )?;
    }
    if let Some(tar) = &args.tar {
        let package = Payload {
            package: payload
                .package
                .with_encoded_object()
                .with_context(context)?,
            btfs: btfs.into(),
        };
        fsutil::write_atomic(tar, &package.to_tar()?, 0o644)?;
        writeln!(out, "wrote the package (ecc layout) to {}", tar.display())?;
    }
    fsutil::print_stdout(&out)
}

/// How many bytes of a payload the BTFs take: its size minus that of the
/// same package, in the same layout and compression, without BTFs (`None`
/// for a bare package.json, an uncompressed package tar, or when that is
/// not smaller).
fn btf_share(payload: &Payload, bytes: &[u8]) -> Option<u64> {
    let codec = Codec::sniff(bytes);
    let tool_layout = payload.is_tool_layout();
    if payload.btfs.is_empty() || (codec == Codec::None && !tool_layout) {
        return None;
    }
    let empty = Payload::new(payload.package.clone());
    let without = if tool_layout {
        empty.to_tool_payload(codec)
    } else {
        empty.to_compressed(codec)
    }
    .ok()?;
    (bytes.len() as u64).checked_sub(without.len() as u64)
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
