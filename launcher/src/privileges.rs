//! Can this process load BPF programs? Root, or CAP_BPF / CAP_SYS_ADMIN in
//! the effective capability set.

use crate::errors::{Failure, Kind};

const CAP_SYS_ADMIN: u32 = 21;
const CAP_BPF: u32 = 39;

/// Parse the `CapEff:` hex mask out of `/proc/<pid>/status` text.
fn effective_caps(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
}

fn has_cap(mask: u64, cap: u32) -> bool {
    mask & (1u64 << cap) != 0
}

/// Fail with exit code 4 unless the process may load BPF programs.
pub fn ensure_can_load_bpf() -> Result<(), Failure> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let caps = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| effective_caps(&s))
        .unwrap_or(0);
    if has_cap(caps, CAP_BPF) || has_cap(caps, CAP_SYS_ADMIN) {
        return Ok(());
    }
    Err(Failure::new(
        Kind::Permission,
        "loading eBPF programs needs root (or CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN); \
         run it with sudo. `--check` works without privileges",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_capeff() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        let mask = effective_caps(status).unwrap();
        assert!(has_cap(mask, CAP_BPF));
        assert!(has_cap(mask, CAP_SYS_ADMIN));
        let none = effective_caps("CapEff:\t0000000000000000\n").unwrap();
        assert!(!has_cap(none, CAP_BPF));
        assert_eq!(effective_caps("nothing"), None);
    }
}
