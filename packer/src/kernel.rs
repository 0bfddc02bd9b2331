//! Kernel inputs: which kernels a selection names, and loading and
//! minimising their BTF.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bundle::{
    btfhub::{Archive, KernelSelector},
    identity::{self, KernelId},
};

use crate::fsutil;

/// This machine's kernel BTF.
pub const HOST_BTF: &str = "/sys/kernel/btf/vmlinux";

/// One kernel to minimise for.
#[derive(Debug, Clone)]
pub struct KernelInput {
    /// Its identity (the payload member name).
    pub kernel: KernelId,
    /// Its BTF file (raw, ELF or .btf.tar.xz).
    pub path: PathBuf,
}

/// A BPF object read from disk.
pub struct LoadedObject {
    /// Where it came from.
    pub path: PathBuf,
    /// Its ELF bytes.
    pub bytes: Vec<u8>,
    /// The parsed object.
    pub object: btf::BpfObject,
}

impl LoadedObject {
    /// Reads and parses a BPF object; errors name the file.
    pub fn load(path: &Path) -> Result<LoadedObject> {
        let bytes = fsutil::read(path)?;
        let object = btf::BpfObject::parse(&bytes).with_context(|| {
            format!(
                "{}: not a usable CO-RE BPF object (compile it with clang -g -O2 -target bpf)",
                path.display()
            )
        })?;
        Ok(LoadedObject {
            path: path.to_path_buf(),
            bytes,
            object,
        })
    }

    /// Reads and parses every object of a command line, in order.
    pub fn load_all(paths: &[PathBuf]) -> Result<Vec<LoadedObject>> {
        paths.iter().map(|p| LoadedObject::load(p)).collect()
    }
}

/// Where kernels are looked up, and whether that is `packer fetch`'s cache.
#[derive(Debug, Clone)]
pub struct ArchiveDir {
    /// The btfhub-archive directory.
    pub path: PathBuf,
    /// Whether it is the default `packer fetch` cache.
    pub is_fetch_cache: bool,
}

/// The btfhub-archive directory: `--btfhub`, else `$BTFHUB_ARCHIVE`, else
/// `./btfhub-archive` when present, else the `packer fetch` cache when it
/// exists.
pub fn btfhub_dir(arg: Option<&Path>) -> Result<ArchiveDir> {
    let given = |path: PathBuf| ArchiveDir {
        path,
        is_fetch_cache: false,
    };
    if let Some(dir) = arg {
        return Ok(given(dir.to_path_buf()));
    }
    if let Some(dir) = std::env::var_os("BTFHUB_ARCHIVE").filter(|d| !d.is_empty()) {
        return Ok(given(PathBuf::from(dir)));
    }
    let local = PathBuf::from("btfhub-archive");
    if local.is_dir() {
        return Ok(given(local));
    }
    let cache = crate::dirs::btfhub_cache()?;
    if cache.is_dir() {
        return Ok(ArchiveDir {
            path: cache,
            is_fetch_cache: true,
        });
    }
    bail!(
        "no btfhub archive: run `packer fetch --kernels ubuntu/20.04` (any selectors) to download          kernels into {}, or pass --btfhub DIR (or set BTFHUB_ARCHIVE) for a btfhub-archive          checkout (ID/VERSION_ID/ARCH/RELEASE.btf.tar.xz), or use --kernels host",
        cache.display()
    )
}

/// The kernels `selectors` name, sorted by identity, without duplicates.
/// The archive is only consulted when a selector other than `host` is given.
pub fn select(selectors: &[KernelSelector], btfhub: Option<&Path>) -> Result<Vec<KernelInput>> {
    let mut inputs: Vec<KernelInput> = Vec::new();
    if selectors.iter().any(|s| *s != KernelSelector::Host) {
        let dir = btfhub_dir(btfhub)?;
        let archive = Archive::scan(&dir.path)?;
        let chosen = archive.select(selectors).map_err(|e| {
            let hint = if dir.is_fetch_cache {
                "; `packer fetch --kernels SEL` downloads more kernels into this cache"
            } else {
                ""
            };
            anyhow::anyhow!("{e}{hint}")
        })?;
        for entry in chosen {
            inputs.push(KernelInput {
                kernel: entry.kernel.clone(),
                path: entry.path.clone(),
            });
        }
    }
    if selectors.contains(&KernelSelector::Host) {
        let kernel =
            identity::detect().context("cannot identify this machine for --kernels host")?;
        if !Path::new(HOST_BTF).exists() {
            bail!("--kernels host: {HOST_BTF} does not exist (this kernel has no BTF); select archive kernels instead");
        }
        // The host's own BTF replaces an archive copy of the same kernel.
        inputs.retain(|i| i.kernel != kernel);
        inputs.push(KernelInput {
            kernel,
            path: PathBuf::from(HOST_BTF),
        });
    }
    inputs.sort_by(|a, b| a.kernel.cmp(&b.kernel));
    Ok(inputs)
}

/// Reads a kernel BTF file (raw, ELF with .BTF, btfhub .btf.tar.xz or .xz)
/// and parses it; errors name the file.
pub fn load_kernel_btf(path: &Path) -> Result<btf::Btf> {
    let bytes = fsutil::read(path)?;
    let raw = btf::decode_kernel_btf(&bytes).with_context(|| format!("{}", path.display()))?;
    btf::Btf::from_vec(raw).with_context(|| format!("{}: invalid BTF", path.display()))
}

/// Minimises one kernel's BTF for `objects`; errors name the kernel file and
/// the object.
pub fn minimize(path: &Path, objects: &[&LoadedObject]) -> Result<Vec<u8>> {
    minimize_parsed(path, &load_kernel_btf(path)?, objects)
}

/// Minimises an already parsed kernel BTF (read from `path`, which errors
/// name) for `objects`.
pub fn minimize_parsed(
    path: &Path,
    kernel: &btf::Btf,
    objects: &[&LoadedObject],
) -> Result<Vec<u8>> {
    let mut minimizer = btf::Minimizer::new(kernel);
    for obj in objects {
        minimizer
            .add_object(&obj.object)
            .with_context(|| format!("{}: {}", path.display(), obj.path.display()))?;
    }
    Ok(minimizer.finish())
}
