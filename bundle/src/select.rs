//! Which BTF the launcher hands to libbpf (FORMAT.md §4).

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::{identity::KernelId, payload::Payload, version::nearest_release, Error};

/// The launcher's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum BtfChoice {
    /// `--btf FILE` was given: use it.
    Override(PathBuf),
    /// `/sys/kernel/btf/vmlinux` is readable: let libbpf use it.
    Native,
    /// The payload has this kernel's BTF.
    Embedded {
        /// The matching kernel (equal to the running identity).
        kernel: KernelId,
        /// Its minimised BTF.
        btf: Arc<[u8]>,
    },
    /// Nothing fits: report it (exit code 3).
    NotCovered(NotCovered),
}

/// Why the running kernel is not covered, with what would cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCovered {
    /// The running system's identity.
    pub me: KernelId,
    /// How many kernels of the same `ID`, `VERSION_ID` and arch the tool covers.
    pub same_distro: usize,
    /// How many kernels the tool covers in all.
    pub total: usize,
    /// The covered release of the same distro nearest to the running one.
    pub nearest: Option<String>,
}

impl fmt::Display for NotCovered {
    /// `no BTF for ubuntu 20.04 x86_64 5.4.0-99-generic in this tool; it
    /// covers 12 ubuntu 20.04 kernels, nearest 5.4.0-91-generic; rebuild with
    /// packer build --kernels ubuntu/20.04/x86_64/5.4.0-99-generic ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let me = &self.me;
        let distro = if me.version_id.is_empty() {
            me.id.clone()
        } else {
            format!("{} {}", me.id, me.version_id)
        };
        write!(
            f,
            "no BTF for {distro} {} {} in this tool; ",
            me.arch, me.release
        )?;
        let plural = |n: usize| if n == 1 { "kernel" } else { "kernels" };
        match &self.nearest {
            Some(nearest) => write!(
                f,
                "it covers {} {distro} {}, nearest {nearest}; ",
                self.same_distro,
                plural(self.same_distro)
            )?,
            None => write!(
                f,
                "it covers no {distro} {} kernels, only {} {} of other distributions, \
                 versions or architectures (--check lists them); ",
                me.arch,
                self.total,
                plural(self.total)
            )?,
        }
        write!(f, "rebuild with packer build --kernels {me} ...")
    }
}

impl std::error::Error for NotCovered {}

/// Decides which BTF to use, in FORMAT.md §4's order: the override path,
/// native BTF, the payload's BTF for exactly `me`, else not covered. Only
/// in the third case is a BTF decoded (an error if the pack is damaged).
pub fn choose(
    payload: &Payload,
    me: &KernelId,
    native_btf_readable: bool,
    override_path: Option<&Path>,
) -> Result<BtfChoice, Error> {
    if let Some(path) = override_path {
        return Ok(BtfChoice::Override(path.to_path_buf()));
    }
    if native_btf_readable {
        return Ok(BtfChoice::Native);
    }
    Ok(match payload.btfs.get(me)? {
        Some(btf) => BtfChoice::Embedded {
            kernel: me.clone(),
            btf,
        },
        None => BtfChoice::NotCovered(not_covered(payload, me)),
    })
}

/// The "not covered" report for `me` against what `payload` has.
pub fn not_covered(payload: &Payload, me: &KernelId) -> NotCovered {
    let kernels = payload.btfs.kernels();
    let same: Vec<&str> = kernels
        .iter()
        .filter(|k| k.same_distro(me))
        .map(|k| k.release.as_str())
        .collect();
    NotCovered {
        me: me.clone(),
        same_distro: same.len(),
        total: payload.btfs.len(),
        nearest: nearest_release(&me.release, same.iter().copied()).map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Meta, Package};

    fn payload(kernels: &[KernelId]) -> Payload {
        let mut p = Payload::new(Package::new(b"o", Meta::new("t_bpf")));
        for k in kernels {
            p.btfs.insert(k.clone(), Arc::from(k.release.as_bytes()));
        }
        p
    }

    fn ubuntu(rel: &str) -> KernelId {
        KernelId::new("ubuntu", "20.04", "x86_64", rel)
    }

    #[test]
    fn order_of_precedence() {
        let me = ubuntu("5.4.0-26-generic");
        let p = payload(std::slice::from_ref(&me));
        let path = Path::new("/tmp/x.btf");
        assert_eq!(
            choose(&p, &me, true, Some(path)).unwrap(),
            BtfChoice::Override(path.into())
        );
        assert_eq!(choose(&p, &me, true, None).unwrap(), BtfChoice::Native);
        match choose(&p, &me, false, None).unwrap() {
            BtfChoice::Embedded { kernel, btf } => {
                assert_eq!(kernel, me);
                assert_eq!(&btf[..], b"5.4.0-26-generic");
            }
            other => panic!("expected embedded, got {other:?}"),
        }
    }

    #[test]
    fn exact_match_only() {
        let p = payload(&[ubuntu("5.4.0-26-generic")]);
        for me in [
            ubuntu("5.4.0-26-lowlatency"),
            KernelId::new("ubuntu", "20.10", "x86_64", "5.4.0-26-generic"),
            KernelId::new("ubuntu", "20.04", "arm64", "5.4.0-26-generic"),
        ] {
            assert!(
                matches!(
                    choose(&p, &me, false, None).unwrap(),
                    BtfChoice::NotCovered(_)
                ),
                "{me}"
            );
        }
    }

    #[test]
    fn not_covered_message() {
        let mut kernels: Vec<KernelId> = (80..92)
            .map(|n| ubuntu(&format!("5.4.0-{n}-generic")))
            .collect();
        kernels.push(KernelId::new("debian", "11", "x86_64", "5.10.0-8-amd64"));
        let p = payload(&kernels);
        let me = ubuntu("5.4.0-99-generic");
        let BtfChoice::NotCovered(nc) = choose(&p, &me, false, None).unwrap() else {
            panic!("expected not covered");
        };
        assert_eq!(
            nc.to_string(),
            "no BTF for ubuntu 20.04 x86_64 5.4.0-99-generic in this tool; it covers 12 ubuntu 20.04 \
             kernels, nearest 5.4.0-91-generic; rebuild with packer build --kernels \
             ubuntu/20.04/x86_64/5.4.0-99-generic ..."
        );

        let other = KernelId::new("fedora", "38", "x86_64", "6.2.9-300.fc38.x86_64");
        let nc = not_covered(&p, &other);
        assert_eq!(
            nc.to_string(),
            "no BTF for fedora 38 x86_64 6.2.9-300.fc38.x86_64 in this tool; it covers no fedora 38 \
             x86_64 kernels, only 13 kernels of other distributions, versions or architectures \
             (--check lists them); rebuild with packer build --kernels \
             fedora/38/x86_64/6.2.9-300.fc38.x86_64 ..."
        );
    }
}
