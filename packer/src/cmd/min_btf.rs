//! `packer min-btf SRC DST OBJ...`, like `bpftool gen min_core_btf`.

use anyhow::Result;

use crate::{
    cli::MinBtfArgs,
    fsutil,
    kernel::{self, LoadedObject},
};

/// Runs `packer min-btf`.
pub fn run(args: MinBtfArgs) -> Result<()> {
    let objects = LoadedObject::load_all(&args.objects)?;
    let refs: Vec<&LoadedObject> = objects.iter().collect();
    let btf = kernel::minimize(&args.src, &refs)?;
    fsutil::write_atomic(&args.dst, &btf, 0o644)?;
    log::info!(
        "{} -> {} ({})",
        args.src.display(),
        args.dst.display(),
        fsutil::human_size(btf.len() as u64)
    );
    Ok(())
}
