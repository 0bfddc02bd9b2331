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
}

/// The btfhub-archive directory: `--btfhub`, else `$BTFHUB_ARCHIVE`, else
/// `./btfhub-archive` when present.
pub fn btfhub_dir(arg: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = arg {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("BTFHUB_ARCHIVE").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let local = PathBuf::from("btfhub-archive");
    if local.is_dir() {
        return Ok(local);
    }
    bail!(
        "no btfhub archive: pass --btfhub DIR or set BTFHUB_ARCHIVE to a btfhub-archive checkout \
         (ID/VERSION_ID/ARCH/RELEASE.btf.tar.xz), or use --kernels host"
    )
}

/// The kernels `selectors` name, sorted by identity, without duplicates.
/// The archive is only consulted when a selector other than `host` is given.
pub fn select(selectors: &[KernelSelector], btfhub: Option<&Path>) -> Result<Vec<KernelInput>> {
    let mut inputs: Vec<KernelInput> = Vec::new();
    if selectors.iter().any(|s| *s != KernelSelector::Host) {
        let dir = btfhub_dir(btfhub)?;
        let archive = Archive::scan(&dir)?;
        for entry in archive.select(selectors)? {
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
    btf::Btf::parse(&raw).with_context(|| format!("{}: invalid BTF", path.display()))
}

/// Minimises one kernel's BTF for `objects`; errors name the kernel file and
/// the object.
pub fn minimize(path: &Path, objects: &[&LoadedObject]) -> Result<Vec<u8>> {
    let kernel = load_kernel_btf(path)?;
    let mut minimizer = btf::Minimizer::new(&kernel);
    for obj in objects {
        minimizer
            .add_object(&obj.object)
            .with_context(|| format!("{}: {}", path.display(), obj.path.display()))?;
    }
    Ok(minimizer.finish())
}

/// Runs `work` for every kernel in parallel (rayon) with a progress bar on
/// a terminal. Every failure is printed (`packer: error: kernel K: ...`) and
/// the run goes on; if any failed, the result is an error counting them.
/// On success the results are in `inputs` order.
pub fn for_each<T: Send>(
    inputs: &[KernelInput],
    label: &str,
    work: impl Fn(&KernelInput) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use rayon::prelude::*;

    let progress = crate::progress::Progress::new(inputs.len(), label);
    let results: Vec<Result<T>> = inputs
        .par_iter()
        .map(|input| {
            log::info!("{label} {}", input.kernel);
            let result = work(input).with_context(|| format!("kernel {}", input.kernel));
            if let (Err(e), true) = (&result, inputs.len() > 1) {
                progress.println(&format!("packer: error: {e:#}"));
            }
            progress.step(&input.kernel.to_string());
            result
        })
        .collect();
    progress.finish();

    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 && inputs.len() > 1 {
        bail!("{failed} of {} kernels failed (errors above)", inputs.len());
    }
    // At most one kernel failed and it was the only one: its error (not
    // printed above) is the whole story.
    results.into_iter().collect()
}
