//! libbpf's own log output.
//!
//! libbpf-rs errors only carry an errno ("No such process"); the reason is in
//! libbpf's log. With `-v` every libbpf message goes to stderr as it comes.
//! Otherwise warn-level lines are kept in a small ring buffer and shown when an
//! open/load/attach step fails.

use libbpf_rs::PrintLevel;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

/// How many recent warning lines are kept for error reports.
const KEEP_LINES: usize = 60;

static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

fn print_all(_level: PrintLevel, msg: String) {
    // Called from C: never panic, even if stderr is closed.
    let _ = std::io::stderr().write_all(msg.as_bytes());
}

fn keep_warnings(level: PrintLevel, msg: String) {
    if level != PrintLevel::Warn {
        return;
    }
    if let Ok(mut recent) = RECENT.lock() {
        for line in msg.lines().filter(|l| !l.trim().is_empty()) {
            if recent.len() == KEEP_LINES {
                recent.pop_front();
            }
            recent.push_back(line.to_string());
        }
    }
}

/// Route libbpf's log: everything to stderr when `verbose`, else keep warnings.
pub fn install(verbose: bool) {
    if verbose {
        libbpf_rs::set_print(Some((PrintLevel::Debug, print_all as _)));
    } else {
        libbpf_rs::set_print(Some((PrintLevel::Warn, keep_warnings as _)));
    }
}

/// Forget the warnings kept so far (call before a step whose failure you report).
pub fn clear() {
    if let Ok(mut recent) = RECENT.lock() {
        recent.clear();
    }
}

/// The warnings kept since the last [`clear`], oldest first.
pub fn take() -> Vec<String> {
    match RECENT.lock() {
        Ok(mut recent) => recent.drain(..).collect(),
        Err(_) => Vec::new(),
    }
}

/// An error describing a failed libbpf step: the libbpf-rs error, then the
/// libbpf log lines that explain it (or a hint to use `-v` when there are none).
pub fn explain(step: &str, err: libbpf_rs::Error) -> anyhow::Error {
    let lines = take();
    let detail = if lines.is_empty() {
        "(run with -v for libbpf's full log)".to_string()
    } else {
        format!("libbpf said:\n  {}", lines.join("\n  "))
    };
    anyhow::anyhow!("{step}: {err:#}\n{detail}")
}
