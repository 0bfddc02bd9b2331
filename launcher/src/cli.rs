//! Command lines. A packed tool takes options directly (`mytool [OPTIONS]`);
//! the plain launcher has a `run` subcommand that names a package file.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Options shared by a packed tool and `launcher run`.
#[derive(Args, Debug, Clone, Default)]
pub struct RunOptions {
    /// Print each event as one JSON object per line instead of a table
    #[arg(short, long)]
    pub json: bool,
    /// Show which BTF would be used and which kernels are covered, load nothing
    /// (needs no root; exit 0 if runnable here, 3 if this kernel is not covered)
    #[arg(long)]
    pub check: bool,
    /// Use this kernel BTF file (raw BTF or ELF with .BTF) instead of native/embedded BTF
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
    /// Print libbpf's log (debug level) to stderr
    #[arg(short, long)]
    pub verbose: bool,
}

const EXIT_CODES: &str = "\
Exit codes: 0 ok (also after Ctrl-C/SIGTERM) · 1 other error · 2 usage error ·
3 kernel not covered · 4 not root / no CAP_BPF · 5 payload missing or corrupt ·
6 libbpf open/load/attach failure";

const RUNNER_ABOUT: &str = "\
Runs CO-RE eBPF programs on any kernel, with or without native BTF.

Two ways to use it:
  * Packed tool: `packer build prog.bpf.o --kernels ... -o mytool` appends a
    package and per-kernel BTFs to a copy of this launcher; running `./mytool`
    loads and attaches the programs and prints their events until Ctrl-C.
    A packed tool takes the options of `launcher run` directly:
    mytool [--json] [--check] [--btf FILE] [-v]
  * Runner: `launcher run PKG` runs an ecc/eunomia-style package.json, or a tar /
    tar.gz with package.json and btfhub-archive/<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf.

BTF used, in order: --btf FILE; /sys/kernel/btf/vmlinux when readable; the
embedded BTF matching this system's os-release ID/VERSION_ID, arch and kernel
release exactly (passed to libbpf from a sealed memfd); else exit 3.

Events from every ring buffer and perf buffer map are decoded with the
object's BTF (export_types[0]) and printed as a table (default: local time,
then one column per struct member) or, with --json, one object per line (keys in
struct member order, no timestamp). Ctrl-C or SIGTERM detaches and exits 0.";

/// `launcher` without a payload.
#[derive(Parser, Debug)]
#[command(name = "launcher", version, about = RUNNER_ABOUT, after_help = EXIT_CODES)]
pub struct RunnerCli {
    /// What to do.
    #[command(subcommand)]
    pub command: RunnerCommand,
}

/// Subcommands of the plain launcher.
#[derive(Subcommand, Debug)]
pub enum RunnerCommand {
    /// Run a package: package.json, or a tar / tar.gz with package.json and btfhub-archive/
    #[command(after_help = EXIT_CODES)]
    Run {
        /// The package file
        #[arg(value_name = "PKG")]
        package: PathBuf,
        /// Options.
        #[command(flatten)]
        options: RunOptions,
    },
}

/// A packed tool's command line.
#[derive(Parser, Debug)]
#[command(version, after_help = EXIT_CODES)]
pub struct PackedCli {
    /// Options.
    #[command(flatten)]
    pub options: RunOptions,
}

/// Parse a packed tool's command line; `name` and `about` come from the
/// executable name and the package's doc comment.
pub fn parse_packed(
    args: impl IntoIterator<Item = OsString>,
    name: &str,
    about: &str,
) -> Result<PackedCli, clap::Error> {
    let about = format!(
        "{about}\n\nA CO-RE eBPF tool packed with bpf-compatible: it loads and attaches its programs \
         with native BTF, or with the embedded BTF for this kernel, and prints events until Ctrl-C."
    );
    let cmd = PackedCli::command()
        .name(name.to_string())
        .bin_name(name.to_string())
        .about(about.trim_start().to_string());
    let matches = cmd.try_get_matches_from(args)?;
    PackedCli::from_arg_matches(&matches)
}

/// Parse the plain launcher's command line.
pub fn parse_runner(args: impl IntoIterator<Item = OsString>) -> Result<RunnerCli, clap::Error> {
    RunnerCli::try_parse_from(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn runner_parses_run_with_options() {
        let cli = parse_runner(os(&[
            "launcher", "run", "p.json", "--json", "--btf", "/b", "-v",
        ]))
        .unwrap();
        let RunnerCommand::Run { package, options } = cli.command;
        assert_eq!(package, PathBuf::from("p.json"));
        assert!(options.json && options.verbose && !options.check);
        assert_eq!(options.btf, Some(PathBuf::from("/b")));
    }

    #[test]
    fn runner_requires_a_package() {
        let err = parse_runner(os(&["launcher", "run"])).unwrap_err();
        assert!(err.use_stderr());
    }

    #[test]
    fn packed_takes_options_directly_and_names_itself() {
        let cli = parse_packed(os(&["mytool", "--check"]), "mytool", "Trace exec").unwrap();
        assert!(cli.options.check);
        let help = parse_packed(os(&["mytool", "--help"]), "mytool", "Trace exec").unwrap_err();
        let text = help.to_string();
        assert!(text.contains("Usage: mytool"), "{text}");
        assert!(text.contains("Trace exec"), "{text}");
        assert!(parse_packed(os(&["mytool", "run", "x"]), "mytool", "").is_err());
    }
}
