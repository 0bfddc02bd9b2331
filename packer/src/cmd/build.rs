//! `packer build`: object + kernels → single executable or package tar.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{bail, Context, Result};
use bundle::{
    identity::KernelId,
    package::{Map, Package, Provenance},
    payload::Payload,
    trailer,
};
use sha2::{Digest, Sha256};

use crate::{
    batch,
    cli::BuildArgs,
    fsutil,
    kernel::{self, LoadedObject},
    metadata,
};

/// What `build` writes.
enum Output {
    /// A packed executable: the launcher's bytes, then payload and trailer.
    Tool { path: PathBuf, launcher: Vec<u8> },
    /// The uncompressed package tar.
    Tar { path: PathBuf },
}

/// Runs `packer build`.
pub fn run(args: BuildArgs) -> Result<()> {
    let object_path = args.object();
    let selectors = args.selectors()?;
    let obj = LoadedObject::load(&object_path)?;
    warn_debug_info(&object_path, &obj.bytes);
    let event_type = args.event_type.as_deref();
    let mut meta = metadata::build(&object_path, &obj.bytes, obj.object.btf(), event_type)
        .with_context(|| format!("{}", object_path.display()))?;
    metadata::add_source_docs(&mut meta, args.source.as_deref(), &object_path)?;
    let output = resolve_output(&args, &object_path)?;
    let mut inputs = kernel::select(&selectors, args.btfhub.as_deref())?;
    add_btf_files(&mut inputs, args.btf_files()?)?;

    let cache = batch::open_cache(&args.cache);
    let options = batch::Options {
        cache: cache.as_ref(),
        keep_going: args.cache.keep_going,
        label: "minimising",
    };
    let minimized = batch::minimize_all(&inputs, &[&obj], &options)?;
    batch::close_cache(cache);
    let minimized = minimized.into_result()?;
    let btfs = share_identical(
        inputs
            .iter()
            .zip(minimized)
            .filter_map(|(i, btf)| Some((i.kernel.clone(), btf?))),
    );

    let mut package = Package::new(&obj.bytes, meta);
    package.bpf_compatible = Some(Provenance {
        format_version: trailer::FORMAT_VERSION,
        packer_version: env!("CARGO_PKG_VERSION").to_owned(),
        object_sha256: trailer::hex(&Sha256::digest(&obj.bytes)),
        kernels: btfs.len() as u64,
        extra: Map::new(),
    });
    let payload = Payload {
        package,
        btfs: btfs.into(),
    };
    let unique = payload.unique_btf_count();

    let (path, payload_len) = match &output {
        Output::Tool { path, launcher } => {
            let bytes = payload.to_tool_payload(args.compression)?;
            fsutil::write_atomic(path, &trailer::append_payload(launcher, &bytes), 0o755)?;
            (path, bytes.len())
        }
        Output::Tar { path } => {
            let bytes = payload.to_tar()?;
            fsutil::write_atomic(path, &bytes, 0o644)?;
            (path, bytes.len())
        }
    };
    fsutil::print_stdout(&format!(
        "packed {} for {} kernel{} ({unique} unique BTF{}), payload {} -> {}\n",
        object_path.display(),
        payload.btfs.len(),
        plural(payload.btfs.len()),
        plural(unique),
        fsutil::human_size(payload_len as u64),
        path.display()
    ))
}

/// Adds the `--btf-from FILE --as ID` kernels; a file replaces a selected
/// kernel of the same identity.
fn add_btf_files(
    inputs: &mut Vec<kernel::KernelInput>,
    files: Vec<(KernelId, PathBuf)>,
) -> Result<()> {
    for (kernel, path) in files {
        if !path.is_file() {
            bail!(
                "--btf-from {}: no such file (give a vmlinuz, vmlinux, raw BTF or .btf.tar.xz)",
                path.display()
            );
        }
        inputs.retain(|i| i.kernel != kernel);
        inputs.push(kernel::KernelInput { kernel, path });
    }
    inputs.sort_by(|a, b| a.kernel.cmp(&b.kernel));
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Collects per-kernel BTFs, letting byte-identical ones share memory.
fn share_identical(
    items: impl Iterator<Item = (KernelId, Vec<u8>)>,
) -> BTreeMap<KernelId, Arc<[u8]>> {
    let mut seen: HashMap<Vec<u8>, Arc<[u8]>> = HashMap::new();
    items
        .map(|(kernel, bytes)| {
            let shared = seen
                .entry(bytes)
                .or_insert_with_key(|b| Arc::from(b.as_slice()))
                .clone();
            (kernel, shared)
        })
        .collect()
}

fn resolve_output(args: &BuildArgs, object: &Path) -> Result<Output> {
    if let Some(path) = &args.tar {
        return Ok(Output::Tar { path: path.clone() });
    }
    let path = match &args.output {
        Some(path) => path.clone(),
        None => default_output(object),
    };
    if same_file(&path, object) {
        bail!(
            "the output {} would overwrite the object; pass -o TOOL",
            path.display()
        );
    }
    let launcher = launcher_bytes(args.launcher.as_deref())?;
    Ok(Output::Tool { path, launcher })
}

/// `./<object name up to its first '.'>`.
fn default_output(object: &Path) -> PathBuf {
    let name = metadata::obj_name(object);
    PathBuf::from(name.strip_suffix("_bpf").unwrap_or(&name))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The launcher to append to: `--launcher`, else `launcher` next to this
/// executable. A packed tool given as launcher has its payload dropped.
fn launcher_bytes(arg: Option<&Path>) -> Result<Vec<u8>> {
    let path = match arg {
        Some(path) => path.to_path_buf(),
        None => {
            let exe = std::env::current_exe().context("cannot locate the packer executable")?;
            fsutil::parent_dir(&exe).join("launcher")
        }
    };
    if !path.is_file() {
        bail!(
            "launcher not found at {}: build it with `make build` (or `cargo build --release -p launcher`) \
             or pass --launcher PATH, or write a package with --tar instead",
            path.display()
        );
    }
    let bytes = fsutil::read(&path)?;
    if !bytes.starts_with(b"\x7fELF") {
        bail!(
            "{}: not an ELF executable; --launcher must be the prebuilt launcher",
            path.display()
        );
    }
    let launcher = trailer::launcher_part(&bytes)
        .with_context(|| format!("{}: damaged bpf-compatible trailer", path.display()))?;
    if launcher.len() != bytes.len() {
        log::warn!(
            "{} is already a packed tool; its payload is replaced",
            path.display()
        );
    }
    Ok(launcher.to_vec())
}

/// Warns when the object carries DWARF, which libbpf does not need and
/// which can make up most of the tool's payload.
fn warn_debug_info(path: &Path, elf: &[u8]) {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(elf) else {
        return;
    };
    let debug: u64 = file
        .sections()
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(".debug_")))
        .map(|s| s.size())
        .sum();
    if debug > 0 {
        log::warn!(
            "{} carries {} of DWARF debug info that the tool does not need; `llvm-strip -g` it to shrink the tool",
            path.display(),
            fsutil::human_size(debug)
        );
    }
}
