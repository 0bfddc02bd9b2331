//! Make sure tracefs is reachable before attaching tracepoint programs.
//!
//! libbpf resolves a tracepoint's id through tracefs (`/sys/kernel/tracing/events/...`,
//! or the older `/sys/kernel/debug/tracing/...`). systemd mounts it at boot, but
//! containers, initramfs shells and minimal hosts often don't, and libbpf then fails
//! with a bare `-ENOENT`. As root we mount it the way systemd would; otherwise we
//! say what to do.

use std::path::Path;

use nix::mount::{mount, MsFlags};

/// Where tracefs is mounted by systemd on current kernels.
const TRACEFS: &str = "/sys/kernel/tracing";
/// Where older kernels and tools expect it, under debugfs.
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// Whether a program in `section` is attached through a tracepoint id from tracefs.
pub fn section_needs_tracefs(section: &str) -> bool {
    ["tp/", "tracepoint/"]
        .iter()
        .any(|prefix| section.starts_with(prefix))
}

/// Whether tracepoint ids can be looked up now.
fn tracefs_available() -> bool {
    [TRACEFS, DEBUGFS_TRACING]
        .iter()
        .any(|dir| Path::new(dir).join("events").is_dir())
}

/// Mount tracefs at `/sys/kernel/tracing` when no tracefs is reachable.
///
/// Returns a hint to add to a later attach error when tracefs stays unreachable
/// (not root, or the mount failed), `None` when tracefs is there.
pub fn ensure_mounted(verbose: bool) -> Option<String> {
    if tracefs_available() {
        return None;
    }
    match mount(
        Some("tracefs"),
        TRACEFS,
        Some("tracefs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    ) {
        Ok(()) if tracefs_available() => {
            if verbose {
                eprintln!("tracefs was not mounted; mounted it at {TRACEFS}");
            }
            None
        }
        Ok(()) => Some(format!(
            "tracefs mounted at {TRACEFS} has no events/ directory; this kernel may lack CONFIG_FTRACE"
        )),
        Err(e) => Some(format!(
            "tracefs is not mounted and mounting it at {TRACEFS} failed ({e}); \
             mount it (as root: mount -t tracefs tracefs {TRACEFS}) and run again"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tracepoint_sections_need_tracefs() {
        assert!(section_needs_tracefs("tp/sched/sched_process_exec"));
        assert!(section_needs_tracefs(
            "tracepoint/syscalls/sys_enter_openat"
        ));
        assert!(!section_needs_tracefs("kprobe/do_sys_open"));
        assert!(!section_needs_tracefs("tp_btf/sched_switch"));
        assert!(!section_needs_tracefs("raw_tp/sched_switch"));
    }
}
