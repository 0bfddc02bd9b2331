//! Command lines. A packed tool takes options directly (`mytool [OPTIONS]`);
//! the plain launcher has a `run` subcommand that names a package file.

use crate::options::{self, Assignment, GlobalOption};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Print this map periodically as a histogram (value struct with a `slots`
    /// array) or key/value table, like maps marked `sample` in the package
    /// (repeatable)
    #[arg(long, value_name = "MAP")]
    pub sample: Vec<String>,
    /// How often sampled maps are printed: 1s, 500ms, 2m (a plain number is
    /// seconds) [default: the package's interval, else 1s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
}

impl RunOptions {
    /// Combine options given before the package (`launcher run --json PKG`)
    /// with those given after it.
    pub fn merge(mut self, later: RunOptions) -> RunOptions {
        self.json |= later.json;
        self.check |= later.check;
        self.verbose |= later.verbose;
        self.btf = later.btf.or(self.btf);
        self.sample.extend(later.sample);
        self.interval = later.interval.or(self.interval);
        self
    }
}

/// `1s`, `250ms`, `2m`, `1.5` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 1s, 500ms, 2m)"))?;
    let secs = v * scale;
    if !(0.001..=86_400.0).contains(&secs) {
        return Err(format!("'{s}' is out of range: 1ms..24h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// How `launcher run` reads its package.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageFormat {
    /// ecc's package.json
    Json,
    /// A tar, plain, lz4, gzip or xz (package.json + btfhub-archive/, or a packed tool's payload)
    Tar,
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
    mytool [--json] [--check] [--btf FILE] [-v] [PROGRAM OPTIONS]
  * Runner: `launcher run PKG [OPTIONS] [PROGRAM OPTIONS]` runs an ecc/eunomia
    package.json, or a tar (plain, lz4, gzip or xz; ecc -b, bpf-compatible btfgen or
    packer --tar) with package.json and
    btfhub-archive/<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf; PKG `-` reads stdin.

Program options: every global variable of the BPF object (`const volatile`
.rodata, .data, .bss) of an integer, bool, enum or char[] type is an option:
`target_pid` is `--target-pid N`, a bool `flag` is `--flag` / `--no-flag`, an
enum takes an enumerator name, a char[] a string; `launcher run PKG --help`
lists them with their defaults.

BTF used, in order: --btf FILE; /sys/kernel/btf/vmlinux when readable; the
embedded BTF matching this system's os-release ID/VERSION_ID, arch and kernel
release exactly (passed to libbpf from a sealed memfd); else exit 3.

Events from every ring buffer and perf buffer map are decoded with the
object's BTF (export_types[0]) and printed as a table (default: local time,
then one column per struct member) or, with --json, one object per line (keys in
struct member order, no timestamp). Maps marked `sample` in the package, or
named with --sample MAP, are printed every --interval as log2/linear histograms
(a value struct with a `slots` array) or key/value tables, and once more at
exit. Ctrl-C or SIGTERM detaches and exits 0.";

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
    /// Run a package: ecc's package.json, or a tar (plain, lz4, gzip or xz) with package.json and btfhub-archive/
    #[command(after_help = EXIT_CODES, disable_help_flag = true)]
    Run {
        /// The package file, or `-` for standard input
        #[arg(value_name = "PKG", required_unless_present = "help")]
        package: Option<PathBuf>,
        /// Print help (with PKG: also the package's program options)
        #[arg(short = 'h', long = "help", action = clap::ArgAction::SetTrue)]
        help: bool,
        /// Options.
        #[command(flatten)]
        options: RunOptions,
        /// What PKG is [default: recognised from its content]; checked when given
        #[arg(long, value_enum)]
        format: Option<PackageFormat>,
        /// The program's own options (its global variables, see `launcher run PKG --help`)
        #[arg(
            value_name = "PROGRAM OPTIONS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<OsString>,
    },
}

/// A parsed program command line: launcher options and the values for
/// the program's globals.
#[derive(Debug)]
pub struct ProgramArgs {
    /// Launcher options.
    pub options: RunOptions,
    /// Globals to set before loading.
    pub assignments: Vec<Assignment>,
}

/// The command of a program: the launcher options plus one option per
/// global. `runner` adds `--format` (for `launcher run PKG ...`).
pub fn program_command(
    name: &str,
    about: &str,
    globals: Vec<crate::globals::Global>,
    meta: &bundle::package::Meta,
    runner: bool,
) -> (clap::Command, Vec<GlobalOption>) {
    let doc = |key: &str| meta.bpf_skel.doc_str(key).map(str::to_string);
    // The package's own version (doc @version), as ecli shows it.
    let version = doc("version").map_or_else(
        || env!("CARGO_PKG_VERSION").to_string(),
        |v| {
            format!(
                "{v} (bpf-compatible launcher {})",
                env!("CARGO_PKG_VERSION")
            )
        },
    );
    let after = doc("details").map_or_else(
        || EXIT_CODES.to_string(),
        |d| format!("{d}\n\n{EXIT_CODES}"),
    );
    let mut cmd = RunOptions::augment_args(clap::Command::new(name.to_string()))
        .bin_name(name.to_string())
        .about(about.trim().to_string())
        .version(version)
        .after_help(after);
    if runner {
        cmd = cmd.arg(
            clap::Arg::new("format")
                .long("format")
                .value_name("FORMAT")
                .value_parser(clap::builder::EnumValueParser::<PackageFormat>::new())
                .help("What PKG is [default: recognised from its content]"),
        );
    }
    let opts = options::global_options(globals, meta, &cmd);
    if !opts.is_empty() {
        cmd = cmd.next_help_heading("Program options (global variables of the BPF object)");
    }
    (options::add_to(cmd, &opts), opts)
}

/// Parse a program's command line `args` (including `argv[0]`): with any
/// argument, by the command `command` builds from the program's `globals`
/// (a [`program_command`]); without one, the result is known beforehand (the
/// launcher options' defaults, and the globals' `cmdarg` defaults from
/// `meta`), so neither the command nor, when `meta` has no such defaults,
/// the globals are built: `./mytool` is the common case, and building the
/// command is a measurable share of a tool's start-up (bench/startup).
pub fn parse_program_args<G, C>(
    args: Vec<OsString>,
    meta: &bundle::package::Meta,
    globals: G,
    command: C,
) -> Result<ProgramArgs, clap::Error>
where
    G: FnOnce() -> Vec<crate::globals::Global>,
    C: FnOnce(Vec<crate::globals::Global>) -> (clap::Command, Vec<GlobalOption>),
{
    if args.len() <= 1 {
        let assignments = if options::has_cmdarg_defaults(meta) {
            options::default_assignments(&globals(), meta)
        } else {
            Vec::new()
        };
        return Ok(ProgramArgs {
            options: RunOptions::default(),
            assignments,
        });
    }
    let (cmd, opts) = command(globals());
    parse_program(cmd, &opts, args)
}

/// Parse `args` (including `argv[0]`) with a [`program_command`].
pub fn parse_program(
    cmd: clap::Command,
    opts: &[GlobalOption],
    args: impl IntoIterator<Item = OsString>,
) -> Result<ProgramArgs, clap::Error> {
    let matches = cmd.try_get_matches_from(args)?;
    let options = RunOptions::from_arg_matches(&matches)?;
    Ok(ProgramArgs {
        options,
        assignments: options::assignments(&matches, opts),
    })
}

/// The about text of a packed tool from its package doc.
pub fn packed_about(brief: &str) -> String {
    format!(
        "{brief}\n\nA CO-RE eBPF tool packed with bpf-compatible: it loads and attaches its programs \
         with native BTF, or with the embedded BTF for this kernel, and prints events until Ctrl-C."
    )
    .trim_start()
    .to_string()
}

/// Print `launcher run --help` (without a package).
pub fn print_run_help() {
    let mut cmd = RunnerCli::command();
    if let Some(run) = cmd.find_subcommand_mut("run") {
        let _ = run.clone().bin_name("launcher run").print_help();
    }
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
    fn runner_parses_run_with_options_before_and_after_the_package() {
        let cli = parse_runner(os(&[
            "launcher",
            "run",
            "--json",
            "p.json",
            "--btf",
            "/b",
            "-v",
            "--target-pid",
            "3",
        ]))
        .unwrap();
        let RunnerCommand::Run {
            package,
            options,
            args,
            format,
            help,
        } = cli.command;
        assert!(!help);
        assert_eq!(package, Some(PathBuf::from("p.json")));
        assert!(options.json && options.verbose && format.is_none());
        assert_eq!(options.btf, Some(PathBuf::from("/b")));
        assert_eq!(os(&["--target-pid", "3"]), args);
    }

    #[test]
    fn runner_requires_a_package() {
        let err = parse_runner(os(&["launcher", "run"])).unwrap_err();
        assert!(err.use_stderr());
    }

    #[test]
    fn no_arguments_parse_like_clap_without_building_the_command() {
        use crate::globals::{Global, GlobalKind};
        let mut meta = bundle::package::Meta::new("x_bpf");
        meta.bpf_skel.data_sections = serde_json::from_value(serde_json::json!([
        {"name": ".rodata", "variables": [
            {"name": "target_pid", "type": "int", "cmdarg": {"default": 7}},
            {"name": "quiet", "type": "bool"}
        ]}]))
        .unwrap();
        let globals = || {
            ["target_pid", "quiet"]
                .iter()
                .map(|name| Global {
                    name: name.to_string(),
                    section: ".rodata".into(),
                    offset: 4,
                    size: 4,
                    c_type: "int".into(),
                    kind: GlobalKind::Int {
                        size: 4,
                        signed: true,
                    },
                    initial: vec![0; 4],
                })
                .collect::<Vec<_>>()
        };
        let command = |g| program_command("t", "", g, &meta, false);
        let fast = parse_program_args(os(&["t"]), &meta, globals, |_| {
            panic!("the command is built for an empty command line")
        })
        .unwrap();
        let (cmd, opts) = command(globals());
        let slow = parse_program(cmd, &opts, os(&["t"])).unwrap();
        assert_eq!(format!("{:?}", fast.options), format!("{:?}", slow.options));
        assert_eq!(fast.assignments, slow.assignments);
        assert_eq!(fast.assignments.len(), 1, "target_pid's cmdarg default");
        // Without cmdarg defaults not even the globals are read.
        let plain = bundle::package::Meta::new("x_bpf");
        let fast = parse_program_args(
            os(&["t"]),
            &plain,
            || panic!("globals read for an empty command line"),
            |_| panic!("command built"),
        )
        .unwrap();
        assert!(fast.assignments.is_empty());
        // Any argument goes through the command.
        let parsed = parse_program_args(os(&["t", "--json"]), &meta, globals, command).unwrap();
        assert!(parsed.options.json);
        assert_eq!(parsed.assignments.len(), 1);
    }

    #[test]
    fn program_command_has_the_launcher_options_and_format_for_runner() {
        let meta = bundle::package::Meta::new("x_bpf");
        let (cmd, opts) = program_command("mytool", "Trace exec", Vec::new(), &meta, false);
        let parsed = parse_program(
            cmd,
            &opts,
            os(&["mytool", "--check", "--sample", "h", "--interval", "250ms"]),
        )
        .unwrap();
        assert!(parsed.options.check);
        assert_eq!(parsed.options.sample, vec!["h".to_string()]);
        assert_eq!(parsed.options.interval, Some(Duration::from_millis(250)));
        let (cmd, opts) = program_command("mytool", "Trace exec", Vec::new(), &meta, false);
        let help = parse_program(cmd, &opts, os(&["mytool", "--help"])).unwrap_err();
        let text = help.to_string();
        assert!(text.contains("Usage: mytool"), "{text}");
        assert!(text.contains("Trace exec"), "{text}");
        let (cmd, opts) = program_command("mytool", "", Vec::new(), &meta, false);
        assert!(parse_program(cmd, &opts, os(&["mytool", "--format", "json"])).is_err());
        let (cmd, opts) = program_command("launcher run -", "", Vec::new(), &meta, true);
        assert!(parse_program(cmd, &opts, os(&["x", "--format", "json"])).is_ok());
        let (cmd, opts) = program_command("launcher run -", "", Vec::new(), &meta, true);
        assert!(parse_program(cmd, &opts, os(&["x", "--format", "zip"])).is_err());

        let mut meta = meta;
        meta.bpf_skel.doc =
            serde_json::from_str(r#"{"version": "0.1.0", "details": "More."}"#).ok();
        let (cmd, opts) = program_command("t", "", Vec::new(), &meta, false);
        let v = parse_program(cmd, &opts, os(&["t", "--version"]))
            .unwrap_err()
            .to_string();
        assert!(v.starts_with("t 0.1.0 (bpf-compatible launcher "), "{v}");
        let (cmd, opts) = program_command("t", "", Vec::new(), &meta, false);
        let h = parse_program(cmd, &opts, os(&["t", "--help"]))
            .unwrap_err()
            .to_string();
        assert!(h.contains("More.\n\nExit codes"), "{h}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("0").is_err() && parse_duration("x").is_err());
    }
}
