//! `packer btfgen`: minimise a whole btfhub-archive directory, keeping its
//! layout (`.btf.tar.xz` inputs become `.btf` outputs).

use std::fs;

use anyhow::{Context, Result};
use bundle::btfhub::{Archive, KernelSelector};

use crate::{
    cli::BtfgenArgs,
    fsutil,
    kernel::{self, KernelInput, LoadedObject},
};

/// Runs `packer btfgen`.
pub fn run(args: BtfgenArgs) -> Result<()> {
    let objects = args
        .objects
        .iter()
        .map(|p| LoadedObject::load(p))
        .collect::<Result<Vec<_>>>()?;
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

    let sizes = kernel::for_each(&inputs, "btfgen", |input| {
        let btf = kernel::minimize(&input.path, &refs)?;
        let dst = args.outputdir.join(input.kernel.relative_path());
        let dir = fsutil::parent_dir(&dst);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        fsutil::write_atomic(&dst, &btf, 0o644)?;
        Ok(btf.len() as u64)
    })?;
    fsutil::print_stdout(&format!(
        "wrote {} minimised BTFs ({}) to {}\n",
        sizes.len(),
        fsutil::human_size(sizes.iter().sum()),
        args.outputdir.display()
    ))
}
