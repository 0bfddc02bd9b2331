//! The launcher's flow: find the package, then check or load, attach and poll.

use crate::btf_choice;
use crate::check;
use crate::cli::{self, RunOptions, RunnerCommand};
use crate::errors::{Failure, Kind, ResultExt};
use crate::layout_btf;
use crate::libbpf_log;
use crate::loader;
use crate::poll;
use crate::printer::Printer;
use crate::privileges;
use crate::signals;
use crate::source;
use bundle::payload::Payload;
use std::ffi::OsString;
use std::path::Path;

/// Name the plain launcher is installed under.
const LAUNCHER_NAME: &str = "launcher";

/// First arguments that make sense for the plain launcher.
const RUNNER_WORDS: [&str; 6] = ["run", "help", "--help", "-h", "--version", "-V"];

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
            let about = doc_brief(&payload);
            match cli::parse_packed(args, &exe_name, &about) {
                Ok(parsed) => run_payload(&payload, &parsed.options),
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
                RunnerCommand::Run { package, options } => {
                    let payload = source::read_package_file(&package)?;
                    run_payload(&payload, &options)
                }
            },
            Err(e) => Ok(clap_exit(&e)),
        },
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

/// The package's one-line description (`meta.bpf_skel.doc.brief`), if any.
fn doc_brief(payload: &Payload) -> String {
    payload
        .package
        .meta
        .bpf_skel
        .doc
        .as_ref()
        .and_then(|d| d.get("brief"))
        .and_then(|b| b.as_str())
        .unwrap_or("")
        .to_string()
}

/// `--check`, or load + attach + poll until stopped.
fn run_payload(payload: &Payload, opts: &RunOptions) -> Result<i32, Failure> {
    let decision = btf_choice::decide(payload, opts.btf.as_deref());
    if opts.check {
        let report = check::report(payload, &decision);
        print!("{}", report.text);
        return Ok(if report.runnable {
            0
        } else {
            Kind::NotCovered.exit_code()
        });
    }

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
    }

    let meta = &payload.package.meta;
    let object_bytes = payload.package.object().kind_ctx(Kind::Payload, || {
        "package.json: bpf_object cannot be decoded"
    })?;
    let layout = layout_btf::event_layout(&object_bytes, &meta.export_types)?;

    let loaded = loader::load_and_attach(&meta.bpf_skel.obj_name, &object_bytes, &prepared)?;
    let maps = poll::output_maps(&loaded.object);
    if !maps.is_empty() && layout.is_none() {
        eprintln!(
            "warning: package.json has no export_types and the object has no `struct event`; \
             printing raw records from {} as hex (rebuild the package with the event struct exported)",
            maps.join(", ")
        );
    }
    eprintln!(
        "{}: {} program(s) attached; {}; Ctrl-C to stop",
        meta.bpf_skel.obj_name,
        loaded.links.len(),
        if maps.is_empty() {
            "no ring/perf buffer map, nothing to print".to_string()
        } else {
            format!("printing events from {}", maps.join(", "))
        }
    );

    let printer = Printer::new(layout, opts.json);
    let stats = poll::run(&loaded.object, printer, meta.poll_timeout_ms())?;
    drop(loaded);
    if stats.lost > 0 {
        eprintln!("{} events lost", stats.lost);
    }
    if stats.decode_errors > 0 {
        eprintln!("{} events could not be decoded", stats.decode_errors);
    }
    Ok(0)
}
