//! The launcher's flow: find the package, build the command line from its
//! globals, then check or load, attach and poll.

use crate::btf_choice;
use crate::check;
use crate::cli::{self, PackageFormat, ProgramArgs, RunOptions, RunnerCommand};
use crate::errors::{Failure, Kind, ResultExt};
use crate::globals::{self, Global};
use crate::layout_btf;
use crate::libbpf_log;
use crate::loader;
use crate::options::Assignment;
use crate::poll;
use crate::printer::Printer;
use crate::privileges;
use crate::sample;
use crate::sampler::Sampler;
use crate::signals;
use crate::source;
use btf::Btf;
use bundle::payload::Payload;
use std::ffi::OsString;
use std::path::Path;

/// Name the plain launcher is installed under.
const LAUNCHER_NAME: &str = "launcher";

/// First arguments that make sense for the plain launcher.
const RUNNER_WORDS: [&str; 6] = ["run", "help", "--help", "-h", "--version", "-V"];

/// A package's object: its bytes, and its BTF decoded when first needed
/// (for the command line's globals, or for the output once attached).
struct Program {
    object: bundle::package::Bytes,
    btf: std::cell::OnceCell<Option<Btf>>,
}

impl Program {
    fn new(payload: &Payload) -> Result<Program, Failure> {
        let object = payload.package.object().kind_ctx(Kind::Payload, || {
            "package.json: bpf_object cannot be decoded"
        })?;
        Ok(Program {
            object,
            btf: std::cell::OnceCell::new(),
        })
    }

    /// The object's BTF; `None` when it has none (or it cannot be read).
    fn btf(&self) -> Option<&Btf> {
        self.btf
            .get_or_init(|| Btf::from_elf(&self.object).ok())
            .as_ref()
    }

    /// The globals a command line can set (none without BTF).
    fn globals(&self) -> Vec<Global> {
        match self.btf() {
            Some(btf) => globals::settable_globals(&self.object, btf).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// Run with these command-line arguments (including `argv[0]`); returns the exit code.
pub fn main_with_args(args: Vec<OsString>) -> Result<i32, Failure> {
    let exe_name = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map_or_else(
            || LAUNCHER_NAME.to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
    let first_arg = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let runner_words = first_arg
        .as_deref()
        .is_some_and(|a| RUNNER_WORDS.contains(&a));

    let image = source::read_self();
    match image {
        Ok(source::SelfImage {
            path,
            payload: Some(bytes),
        }) => {
            let payload = source::parse_payload(&bytes, &path)?;
            let program = Program::new(&payload)?;
            let meta = &payload.package.meta;
            let parsed = cli::parse_program_args(
                args,
                meta,
                || program.globals(),
                |globals| {
                    let about = cli::packed_about(&doc_brief(&payload));
                    cli::program_command(&exe_name, &about, globals, meta, false)
                },
            );
            match parsed {
                Ok(parsed) => run_payload(&payload, &program, &parsed.options, &parsed.assignments),
                Err(e) => Ok(clap_exit(&e)),
            }
        }
        Ok(_) if exe_name != LAUNCHER_NAME && !runner_words => Err(Failure::new(
            Kind::Payload,
            source::missing_payload_message(&exe_name),
        )),
        Err(e) if !runner_words => Err(e),
        _ => match cli::parse_runner(args) {
            Ok(parsed) => match parsed.command {
                RunnerCommand::Run {
                    package,
                    options,
                    format,
                    mut args,
                    help,
                } => match package {
                    // `launcher run PKG --help`: the package's own help.
                    Some(package) => {
                        if help {
                            args.insert(0, OsString::from("--help"));
                        }
                        run_package(&package, options, format, args)
                    }
                    None => {
                        cli::print_run_help();
                        Ok(0)
                    }
                },
            },
            Err(e) => Ok(clap_exit(&e)),
        },
    }
}

/// `launcher run PKG [OPTIONS] [PROGRAM OPTIONS]`: read the package, then
/// parse what follows it with the package's own options.
fn run_package(
    package: &Path,
    before: RunOptions,
    format: Option<PackageFormat>,
    rest: Vec<OsString>,
) -> Result<i32, Failure> {
    let format = format.or_else(|| format_in(&rest));
    let payload = source::read_package(package, format)?;
    let program = Program::new(&payload)?;
    let name = format!("{LAUNCHER_NAME} run {}", package.display());
    let meta = &payload.package.meta;
    let argv = std::iter::once(OsString::from(&name)).chain(rest).collect();
    let parsed = cli::parse_program_args(
        argv,
        meta,
        || program.globals(),
        |globals| cli::program_command(&name, &doc_brief(&payload), globals, meta, true),
    );
    match parsed {
        Ok(ProgramArgs {
            options,
            assignments,
        }) => run_payload(&payload, &program, &before.merge(options), &assignments),
        Err(e) => Ok(clap_exit(&e)),
    }
}

/// `--format X` / `--format=X` among the arguments after the package
/// (needed before the package is read; clap checks it again later).
fn format_in(args: &[OsString]) -> Option<PackageFormat> {
    let text: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let value = text.iter().enumerate().find_map(|(i, a)| {
        if a == "--format" {
            text.get(i + 1).cloned()
        } else {
            a.strip_prefix("--format=").map(str::to_string)
        }
    })?;
    match value.as_str() {
        "json" => Some(PackageFormat::Json),
        "tar" => Some(PackageFormat::Tar),
        _ => None,
    }
}

/// Print clap's message; 0 for --help/--version, 2 for usage errors.
fn clap_exit(e: &clap::Error) -> i32 {
    let _ = e.print();
    if e.use_stderr() {
        Kind::Usage.exit_code()
    } else {
        0
    }
}

/// The package's one-line description (`meta.bpf_skel.doc.brief`, else
/// `description`), if any.
fn doc_brief(payload: &Payload) -> String {
    let skel = &payload.package.meta.bpf_skel;
    ["brief", "description"]
        .iter()
        .find_map(|k| skel.doc_str(k))
        .unwrap_or("")
        .to_string()
}

/// `--check`, or load + attach + poll until stopped.
fn run_payload(
    payload: &Payload,
    program: &Program,
    opts: &RunOptions,
    assignments: &[Assignment],
) -> Result<i32, Failure> {
    let decision = btf_choice::decide(payload, opts.btf.as_deref(), opts.check || opts.verbose)?;
    if opts.check {
        let report = check::report(payload, &decision);
        print!("{}", report.text);
        return Ok(if report.runnable {
            0
        } else {
            Kind::NotCovered.exit_code()
        });
    }

    let meta = &payload.package.meta;
    let specs = sample::specs(meta, &opts.sample, opts.interval)
        .map_err(|e| Failure::new(Kind::Payload, e))?;

    libbpf_log::install(opts.verbose);
    signals::install().kind(Kind::Other)?;
    let prepared = btf_choice::prepare(&decision)?;
    privileges::ensure_can_load_bpf()?;
    if opts.verbose {
        let path = prepared.custom_path.as_ref().map_or_else(
            || "none, libbpf reads the kernel's own".to_string(),
            |p| p.display().to_string(),
        );
        eprintln!(
            "using BTF: {} [libbpf btf_custom_path: {path}]",
            btf_choice::describe(&decision)
        );
        for a in assignments {
            eprintln!("setting {} ({}+{})", a.name, a.section, a.offset);
        }
    }

    let loaded = loader::load_and_attach(
        &meta.bpf_skel.obj_name,
        &program.object,
        &prepared,
        assignments,
        opts.verbose,
    )?;
    // Attached: say so first, then set up the output (decode the object's
    // BTF, make the samplers); events wait in their buffers meanwhile.
    let maps = poll::output_maps(&loaded.object);
    let sampled: Vec<&str> = specs.iter().map(|s| s.map.as_str()).collect();
    // One write (eprintln! writes each piece separately to the unbuffered
    // stderr): whoever waits for this line gets it whole, at once.
    let attached = format!(
        "{}: {} program(s) attached; {}; Ctrl-C to stop\n",
        meta.bpf_skel.obj_name,
        loaded.links.len(),
        output_summary(&maps, &sampled)
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), attached.as_bytes());

    let layouts = layout_btf::event_layouts(program.btf(), meta)?;
    let without_layout: Vec<&str> = maps
        .iter()
        .filter(|m| layouts.for_map(m).is_none())
        .map(String::as_str)
        .collect();
    if !without_layout.is_empty() {
        eprintln!(
            "warning: package.json has no export_types and the object has no `struct event`; \
             printing raw records from {} as hex (rebuild the package with the event struct exported)",
            without_layout.join(", ")
        );
    }
    let mut samplers = Sampler::new(&loaded.object, specs, |name| match program.btf() {
        Some(btf) => layout_btf::map_types(btf, name),
        None => sample::MapTypes::default(),
    })?;

    let json = opts.json;
    let stats = poll::run(
        &loaded.object,
        |name| layouts.for_map(name),
        move |layout| Printer::new(layout, json),
        &mut samplers,
        json,
        meta.poll_timeout_ms(),
    )?;
    drop(loaded);
    if stats.lost > 0 {
        eprintln!("{} events lost", stats.lost);
    }
    if stats.decode_errors > 0 {
        eprintln!("{} events could not be decoded", stats.decode_errors);
    }
    Ok(0)
}

/// What the tool prints: events from the ring/perf buffer `maps`, and the
/// `sampled` maps.
fn output_summary(maps: &[String], sampled: &[&str]) -> String {
    let mut what = Vec::new();
    if !maps.is_empty() {
        what.push(format!("printing events from {}", maps.join(", ")));
    }
    if !sampled.is_empty() {
        what.push(format!("sampling {}", sampled.join(", ")));
    }
    if what.is_empty() {
        what.push("no ring/perf buffer or sampled map, nothing to print".to_string());
    }
    what.join("; ")
}
