//! `--check`: what would happen on this system, without loading anything.

use crate::btf_choice::{self, Decision, NATIVE_BTF};
use bundle::identity::KernelId;
use bundle::payload::Payload;
use bundle::select::BtfChoice;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `--check` report and whether the tool can run here.
pub struct CheckReport {
    /// Human-readable report (several lines).
    pub text: String,
    /// `false` when this kernel is not covered (exit 3).
    pub runnable: bool,
}

/// Build the report for `payload` on this system given `decision`.
pub fn report(payload: &Payload, decision: &Decision) -> CheckReport {
    let mut t = String::new();
    let meta = &payload.package.meta;
    let _ = writeln!(t, "object:      {}", meta.bpf_skel.obj_name);
    match &decision.identity {
        Ok(me) => {
            let _ = writeln!(
                t,
                "system:      ID={} VERSION_ID={} ARCH={} RELEASE={}",
                me.id, me.version_id, me.arch, me.release
            );
        }
        Err(e) => {
            let _ = writeln!(t, "system:      unknown ({e})");
        }
    }
    let _ = writeln!(
        t,
        "native BTF:  {}",
        if decision.native_readable {
            format!("yes ({NATIVE_BTF} is readable)")
        } else {
            format!("no ({NATIVE_BTF} missing or unreadable)")
        }
    );
    let _ = writeln!(t, "BTF to use:  {}", btf_choice::describe(decision));
    t.push_str(&coverage(
        payload.btfs.kernels().into_iter(),
        payload.unique_btf_count(),
    ));
    let runnable = match &decision.choice {
        BtfChoice::NotCovered(_) => false,
        BtfChoice::Native => decision.native_readable,
        _ => true,
    };
    let _ = writeln!(t, "runnable:    {}", if runnable { "yes" } else { "no" });
    CheckReport { text: t, runnable }
}

/// "kernels covered: N (M distinct BTFs)" then one block per distro/version/arch.
fn coverage<'a>(kernels: impl Iterator<Item = &'a KernelId>, unique: usize) -> String {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut total = 0;
    for k in kernels {
        total += 1;
        groups
            .entry(format!("{} {} {}", k.id, k.version_id, k.arch))
            .or_default()
            .push(&k.release);
    }
    let mut t = format!("kernels:     {total} embedded ({unique} distinct BTFs)\n");
    for (distro, releases) in &groups {
        let _ = writeln!(t, "  {distro}: {}", releases.len());
        for r in releases {
            let _ = writeln!(t, "    {r}");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_groups_by_distro() {
        let ks = [
            KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic"),
            KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-91-generic"),
            KernelId::new("centos", "8", "x86_64", "4.18.0-305.el8.x86_64"),
        ];
        let text = coverage(ks.iter(), 2);
        assert!(
            text.starts_with("kernels:     3 embedded (2 distinct BTFs)\n"),
            "{text}"
        );
        assert!(
            text.contains("  ubuntu 20.04 x86_64: 2\n    5.4.0-26-generic\n    5.4.0-91-generic\n"),
            "{text}"
        );
        assert!(
            text.contains("  centos 8 x86_64: 1\n    4.18.0-305.el8.x86_64\n"),
            "{text}"
        );
    }
}
