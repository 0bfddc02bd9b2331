//! `packer btfgen`: minimise a whole btfhub-archive directory, keeping its
//! layout (`.btf.tar.xz` inputs become `.btf` outputs).

use std::fs;

use anyhow::{Context, Result};
use bundle::btfhub::{Archive, KernelSelector};

use crate::{
    batch,
    cli::BtfgenArgs,
    fsutil,
    kernel::{KernelInput, LoadedObject},
};

/// Runs `packer btfgen`.
pub fn run(args: BtfgenArgs) -> Result<()> {
    let objects = LoadedObject::load_all(&args.objects)?;
    let refs: Vec<&LoadedObject> = objects.iter().collect();
    let archive = Archive::scan(&args.inputdir)?;
    let inputs: Vec<KernelInput> = archive
        .select(&[KernelSelector::All])?
        .into_iter()
        .map(|e| KernelInput {
            kernel: e.kernel.clone(),
            path: e.path.clone(),
        })
        .collect();

    let cache = batch::open_cache(&args.cache);
    let options = batch::Options {
        cache: cache.as_ref(),
        keep_going: args.cache.keep_going,
        label: "btfgen",
    };
    let minimized = batch::minimize_all(&inputs, &refs, &options)?;
    batch::close_cache(cache);
    let mut total = 0u64;
    let mut written = 0usize;
    // The kernels that worked are written even when others failed.
    for (input, btf) in inputs.iter().zip(minimized.btfs) {
        let Some(btf) = btf else { continue };
        let dst = args.outputdir.join(input.kernel.relative_path());
        let dir = fsutil::parent_dir(&dst);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        fsutil::write_atomic(&dst, &btf, 0o644)?;
        total += btf.len() as u64;
        written += 1;
    }
    if let Some(failure) = minimized.failure {
        return Err(failure);
    }
    fsutil::print_stdout(&format!(
        "wrote {written} minimised BTFs ({}) to {}\n",
        fsutil::human_size(total),
        args.outputdir.display()
    ))
}
