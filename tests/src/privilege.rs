//! Root checks, the BPF test lock and tracefs.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Whether we run under CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether the process runs as root (effective uid 0).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `true` when the test may load BPF. Outside CI a non-root run prints a skip
/// notice and returns `false`; under CI it fails the test, because the BPF
/// tests must run there.
#[track_caller]
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        ensure_tracefs();
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: CI=true but not running as root; the BPF tests must run in CI"
    );
    eprintln!("skipped {test}: needs root (run `sudo make test`)");
    false
}

static BPF: Mutex<()> = Mutex::new(());

/// Serialises the tests that load BPF programs, so one test's tool never sees
/// another test's actions. A panic in a holder does not poison later tests.
pub fn bpf_lock() -> MutexGuard<'static, ()> {
    BPF.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Mounts tracefs at /sys/kernel/tracing when neither it nor the debugfs copy
/// is there: libbpf attaches tracepoints through it, and machines without
/// systemd may not mount it.
fn ensure_tracefs() {
    let mounted = [
        "/sys/kernel/tracing/events",
        "/sys/kernel/debug/tracing/events",
    ]
    .iter()
    .any(|p| Path::new(p).is_dir());
    if mounted {
        return;
    }
    let status = std::process::Command::new("mount")
        .args(["-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("note: could not mount tracefs at /sys/kernel/tracing ({status:?})");
    }
}
