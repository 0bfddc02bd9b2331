//! Debian cloud kernels for the guests: fetched once with `apt-get download`
//! into a cache outside the repository, with a private apt configuration per
//! suite (never the system's), and reduced to their `vmlinuz`.
//!
//! Cache layout (`$BPFC_VM_CACHE`, else `$XDG_CACHE_HOME/bpf-compatible/vm`,
//! else `~/.cache/bpf-compatible/vm`):
//! ```text
//! apt/<suite>/sources.list.d/<suite>.sources   deb822 source, like the system's
//! apt/<suite>/{lists,cache,debs}/              apt's state for that source only
//! kernels/<suite>.release                      e.g. "6.1.0-50-cloud-amd64"
//! kernels/<release>/vmlinuz-<release>          the kernel image (boot + BTF)
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Debian release whose cloud kernel a guest boots.
pub struct Suite {
    /// Codename, e.g. `bookworm`.
    pub codename: &'static str,
    /// os-release `VERSION_ID`, e.g. `12`.
    pub version_id: &'static str,
}

/// The suites the test boots.
pub const SUITES: [Suite; 3] = [
    Suite {
        codename: "bookworm",
        version_id: "12",
    },
    Suite {
        codename: "bullseye",
        version_id: "11",
    },
    Suite {
        codename: "trixie",
        version_id: "13",
    },
];

/// The metapackage that depends on the suite's current cloud kernel.
const METAPACKAGE: &str = "linux-image-cloud-amd64";

/// Used when the system has no Debian source to copy the mirror from.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const DEFAULT_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const SYSTEM_SOURCES: &str = "/etc/apt/sources.list.d/debian.sources";

/// A kernel ready to boot.
pub struct Kernel {
    /// The suite it comes from.
    pub suite: &'static Suite,
    /// `uname -r` of the kernel, e.g. `6.1.0-50-cloud-amd64`.
    pub release: String,
    /// Its `vmlinuz` (bzImage) in the cache.
    pub vmlinuz: PathBuf,
}

impl Kernel {
    /// The identity the guest's os-release and uname give, and the tool's
    /// BTF is filed under: `debian/12/x86_64/6.1.0-50-cloud-amd64`.
    pub fn identity(&self) -> String {
        format!("debian/{}/x86_64/{}", self.suite.version_id, self.release)
    }
}

/// The cache directory.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BPFC_VM_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("bpf-compatible/vm"))
}

/// The suite's kernel: from the cache, else downloaded. `Err` says why it
/// cannot be had (the caller skips).
pub fn get(cache: &Path, suite: &'static Suite) -> Result<Kernel, String> {
    if let Some(kernel) = cached(cache, suite) {
        return Ok(kernel);
    }
    eprintln!(
        "vm: fetching the Debian {} cloud kernel into {}",
        suite.codename,
        cache.display()
    );
    download(cache, suite)?;
    cached(cache, suite).ok_or_else(|| {
        format!(
            "the {} kernel was downloaded but is not in the cache",
            suite.codename
        )
    })
}

fn marker(cache: &Path, suite: &Suite) -> PathBuf {
    cache
        .join("kernels")
        .join(format!("{}.release", suite.codename))
}

fn cached(cache: &Path, suite: &'static Suite) -> Option<Kernel> {
    let release = fs::read_to_string(marker(cache, suite)).ok()?;
    let release = release.trim().to_owned();
    let vmlinuz = cache
        .join("kernels")
        .join(&release)
        .join(format!("vmlinuz-{release}"));
    vmlinuz.is_file().then_some(Kernel {
        suite,
        release,
        vmlinuz,
    })
}

/// Read after the system's configuration (`-c`): drops its hooks, which
/// would act on the system (e.g. clean /var/cache/apt, refresh AppStream).
const NO_HOOKS: &str = "#clear APT::Update::Pre-Invoke;\n\
#clear APT::Update::Post-Invoke;\n\
#clear APT::Update::Post-Invoke-Success;\n\
#clear DPkg::Pre-Invoke;\n\
#clear DPkg::Post-Invoke;\n\
#clear DPkg::Pre-Install-Pkgs;\n";

/// apt-get / apt-cache options that confine apt to the suite's own
/// directories, without the system's hooks.
struct Apt {
    dir: PathBuf,
}

impl Apt {
    fn options(&self) -> Vec<String> {
        let d = |sub: &str| self.dir.join(sub).display().to_string();
        let mut opts = vec![
            "Dir::Etc::SourceList=/dev/null".to_owned(),
            format!("Dir::Etc::SourceParts={}", d("sources.list.d")),
            format!("Dir::State::Lists={}", d("lists")),
            format!("Dir::Cache={}", d("cache")),
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".to_owned(),
        ];
        if nix::unistd::geteuid().is_root() {
            // The cache may be in root's home, which apt's _apt user cannot enter.
            opts.push("APT::Sandbox::User=root".to_owned());
        }
        let mut args = vec!["-c".to_owned(), d("apt.conf")];
        args.extend(opts.into_iter().flat_map(|o| ["-o".to_owned(), o]));
        args
    }

    fn run(&self, program: &str, args: &[&str], cwd: &Path) -> Result<String, String> {
        let out = Command::new(program)
            .args(self.options())
            .args(args)
            .current_dir(cwd)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn download(cache: &Path, suite: &'static Suite) -> Result<(), String> {
    let apt = Apt {
        dir: cache.join("apt").join(suite.codename),
    };
    for sub in ["sources.list.d", "lists/partial", "cache", "debs"] {
        mkdir(&apt.dir.join(sub))?;
    }
    write(&apt.dir.join("apt.conf"), NO_HOOKS.as_bytes())?;
    write(
        &apt.dir
            .join("sources.list.d")
            .join(format!("{}.sources", suite.codename)),
        source_for(suite.codename).as_bytes(),
    )?;
    apt.run("apt-get", &["-q", "update"], &apt.dir)?;
    let depends = apt.run("apt-cache", &["depends", METAPACKAGE], &apt.dir)?;
    let package = depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-cloud-amd64"))
        .ok_or_else(|| {
            format!(
                "{METAPACKAGE} in {} names no kernel: {depends}",
                suite.codename
            )
        })?
        .to_owned();
    let release = package.trim_start_matches("linux-image-").to_owned();
    let debs = apt.dir.join("debs");
    apt.run("apt-get", &["-q", "download", &package], &debs)?;
    let deb = fs::read_dir(&debs)
        .map_err(|e| format!("{}: {e}", debs.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .ok_or_else(|| {
            format!(
                "apt-get download {package} left no .deb in {}",
                debs.display()
            )
        })?;

    // Unpack, keep only the image.
    let kernels = cache.join("kernels");
    let unpacked = kernels.join(format!("{release}.unpack"));
    let _ = fs::remove_dir_all(&unpacked);
    mkdir(&unpacked)?;
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .status()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !status.success() {
        return Err(format!("dpkg-deb -x {} failed ({status})", deb.display()));
    }
    let image = unpacked.join("boot").join(format!("vmlinuz-{release}"));
    let dest_dir = kernels.join(&release);
    mkdir(&dest_dir)?;
    let dest = dest_dir.join(format!("vmlinuz-{release}"));
    let tmp = dest_dir.join(".vmlinuz.tmp");
    fs::copy(&image, &tmp).map_err(|e| format!("{}: {e}", image.display()))?;
    fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let _ = fs::remove_dir_all(&unpacked);
    let _ = fs::remove_file(&deb);
    write(&marker(cache, suite), format!("{release}\n").as_bytes())
}

/// A deb822 source for `codename`, with the mirror and keyring of the
/// system's own Debian source when there is one.
fn source_for(codename: &str) -> String {
    let system = fs::read_to_string(SYSTEM_SOURCES).unwrap_or_default();
    let field = |name: &str| {
        system
            .split("\n\n")
            .filter(|stanza| !stanza.contains("debian-security"))
            .flat_map(str::lines)
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let mirror = field("URIs:").unwrap_or_else(|| DEFAULT_MIRROR.to_owned());
    let keyring = field("Signed-By:").unwrap_or_else(|| DEFAULT_KEYRING.to_owned());
    format!(
        "Types: deb\nURIs: {mirror}\nSuites: {codename}\nComponents: main\nSigned-By: {keyring}\n"
    )
}

fn mkdir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Writes via a temp name and rename.
fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, data)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
