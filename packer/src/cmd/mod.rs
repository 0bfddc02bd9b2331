//! One module per subcommand.

mod btfgen;
mod build;
mod fetch;
mod inspect;
mod kernels;
mod min_btf;

use crate::cli::Command;

/// Runs a subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Build(args) => build::run(args),
        Command::MinBtf(args) => min_btf::run(args),
        Command::Btfgen(args) => btfgen::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Kernels(args) => kernels::run(args),
    }
}
