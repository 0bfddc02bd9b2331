//! `packer`: builds single-file eBPF tools (see `packer --help`).
//!
//! Glue only: argument parsing, file I/O and progress; the formats live in
//! the `bundle` crate and BTF work in the `btf` crate.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod batch;
mod cache;
mod cli;
mod clone;
mod cmd;
mod dirs;
mod doc_comments;
mod fsutil;
mod git;
mod kernel;
mod metadata;
mod progress;

use std::{io::Write, process::ExitCode};

use clap::Parser;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format(|buf, record| {
            let level = record.level().as_str().to_ascii_lowercase();
            writeln!(buf, "packer: {level}: {}", record.args())
        })
        .init();
    let mut cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Prints help/version (exit 0) or the usage error (exit 2).
        Err(e) => e.exit(),
    };
    let checked = match &mut cli.command {
        cli::Command::Build(args) => args.finish(),
        cli::Command::Fetch(args) => args.selectors().map(drop),
        cli::Command::Kernels(args) => args.selectors().map(drop),
        _ => Ok(()),
    };
    if let Err(e) = checked {
        e.exit();
    }
    match cmd::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("packer: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
