//! Packing the examples with `packer` and what the packed tools should say
//! about this machine. All knowledge of the packer's command line is here.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::run;

/// Which kernels a test packs a tool for.
#[derive(Debug, Clone, Copy)]
pub struct Kernels<'a> {
    /// The running kernel (`--kernels host`).
    pub host: bool,
    /// Every kernel of this sample btfhub archive.
    pub samples: Option<&'a Path>,
}

impl Kernels<'_> {
    /// The packer arguments that select these kernels.
    pub fn args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        if self.host {
            args.extend(["--kernels".into(), "host".into()]);
        }
        if let Some(archive) = self.samples {
            args.extend(["--btfhub".into(), archive.into()]);
            args.extend(["--kernels".into(), "all".into()]);
        }
        args
    }
}

/// What `packer build` writes.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// A packed executable (`-o PATH`).
    Tool(&'a Path),
    /// The package tar alone (`--tar PATH`), for `launcher run`.
    Tar(&'a Path),
}

/// `packer build OBJ <kernels> -o TOOL | --tar PKG`; fails the test when the
/// packer does.
#[track_caller]
pub fn pack(packer: &Path, object: &Path, kernels: Kernels<'_>, out: Output<'_>) {
    pack_with(packer, object, kernels, out, &[]);
}

/// [`pack`] with more `packer build` options (e.g. `--compression none`).
#[track_caller]
pub fn pack_with(
    packer: &Path,
    object: &Path,
    kernels: Kernels<'_>,
    out: Output<'_>,
    options: &[&str],
) {
    let (flag, path) = match out {
        Output::Tool(path) => ("-o", path),
        Output::Tar(path) => ("--tar", path),
    };
    run(Command::new(packer)
        .arg("build")
        .arg(object)
        .args(kernels.args())
        .args(options)
        .arg(flag)
        .arg(path))
    .assert_success();
}

/// This machine as the launcher names it: `ID/VERSION_ID/ARCH/RELEASE` from
/// os-release (`/etc`, else `/usr/lib`) and uname, `aarch64` spelt `arm64`.
/// Computed independently of the `bundle` crate, as the tests' oracle.
#[track_caller]
pub fn host_identity() -> String {
    let os_release = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .unwrap_or_default();
    let field = |key: &str| {
        os_release
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| {
                let v = v.trim();
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
                    .to_string()
            })
            .unwrap_or_default()
    };
    let uts = nix::sys::utsname::uname().unwrap_or_else(|e| panic!("uname: {e}"));
    let arch = match uts.machine().to_string_lossy().as_ref() {
        "aarch64" => "arm64".to_string(),
        other => other.to_string(),
    };
    format!(
        "{}/{}/{arch}/{}",
        field("ID"),
        field("VERSION_ID"),
        uts.release().to_string_lossy()
    )
}

/// A btfhub-style archive in `dir` holding one kernel that is not this one:
/// this machine's native BTF filed as `ID/VERSION_ID/ARCH/RELEASE-e2e` (same
/// distribution, another release). Returns the archive directory and that
/// release. A tool packed from it covers this distribution but not this
/// kernel, whether or not the sample archive is present.
#[track_caller]
pub fn other_kernel_archive(dir: &Path) -> (PathBuf, String) {
    let identity = host_identity();
    let (distro, release) = identity
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("identity {identity} has no release"));
    let release = format!("{release}-e2e");
    let kernel_dir = dir.join(distro);
    fs::create_dir_all(&kernel_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", kernel_dir.display()));
    let btf = kernel_dir.join(format!("{release}.btf"));
    fs::copy(HOST_BTF, &btf)
        .unwrap_or_else(|e| panic!("copying {HOST_BTF} to {}: {e}", btf.display()));
    (dir.to_path_buf(), release)
}

/// The running kernel's BTF.
pub const HOST_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The pid of this test process (the parent of everything it spawns).
pub fn my_pid() -> u32 {
    std::process::id()
}
