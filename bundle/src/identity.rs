//! The running system's identity, `<ID>/<VERSION_ID>/<ARCH>/<RELEASE>`, and
//! the btfhub-archive paths derived from it (FORMAT.md §2 and §4).

use std::fmt;

use crate::Error;

/// The directory under which payload BTFs are stored.
pub const ARCHIVE_DIR: &str = "btfhub-archive";

/// One kernel build as btfhub-archive names it.
///
/// Ordering is field by field (`id`, `version_id`, `arch`, `release`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelId {
    /// os-release `ID`, e.g. `ubuntu` (default `linux`).
    pub id: String,
    /// os-release `VERSION_ID`, e.g. `20.04` (may be empty, e.g. on Arch).
    pub version_id: String,
    /// btfhub architecture: `x86_64` or `arm64` (`aarch64` is mapped).
    pub arch: String,
    /// `uname -r`, e.g. `5.4.0-26-generic`.
    pub release: String,
}

impl KernelId {
    /// Builds an identity from its four parts; `arch` is normalised with
    /// [`btfhub_arch`].
    pub fn new(
        id: impl Into<String>,
        version_id: impl Into<String>,
        arch: impl AsRef<str>,
        release: impl Into<String>,
    ) -> KernelId {
        KernelId {
            id: id.into(),
            version_id: version_id.into(),
            arch: btfhub_arch(arch.as_ref()).to_owned(),
            release: release.into(),
        }
    }

    /// The path of this kernel's BTF relative to an archive root:
    /// `ID/VERSION_ID/ARCH/RELEASE.btf`.
    pub fn relative_path(&self) -> String {
        format!(
            "{}/{}/{}/{}.btf",
            self.id, self.version_id, self.arch, self.release
        )
    }

    /// The payload member name: `btfhub-archive/ID/VERSION_ID/ARCH/RELEASE.btf`.
    pub fn archive_path(&self) -> String {
        format!("{ARCHIVE_DIR}/{}", self.relative_path())
    }

    /// Parses a payload member name made by [`KernelId::archive_path`].
    ///
    /// Accepts a leading `./`, and the three-component form that tar writers
    /// produce when `VERSION_ID` is empty (`ID//ARCH` collapses to `ID/ARCH`).
    /// Returns `None` for anything else.
    pub fn from_archive_path(path: &str) -> Option<KernelId> {
        let path = strip_dot_slash(path);
        let rest = path.strip_prefix(ARCHIVE_DIR)?.strip_prefix('/')?;
        KernelId::from_relative_path(rest)
    }

    /// Parses `ID/VERSION_ID/ARCH/RELEASE.btf` (also accepting the
    /// `.btf.tar.xz` suffix btfhub-archive uses, and `ID/ARCH/RELEASE.btf`
    /// for an empty `VERSION_ID`).
    pub fn from_relative_path(path: &str) -> Option<KernelId> {
        let parts: Vec<&str> = strip_dot_slash(path).split('/').collect();
        let (id, version_id, arch, file) = match parts.as_slice() {
            [id, version_id, arch, file] => (*id, *version_id, *arch, *file),
            [id, arch, file] => (*id, "", *arch, *file),
            _ => return None,
        };
        let release = file
            .strip_suffix(".btf.tar.xz")
            .or_else(|| file.strip_suffix(".btf"))?;
        KernelId::checked(id, version_id, arch, release)
    }

    /// Parses the `ID/VERSION_ID/ARCH/RELEASE` form [`Display`](fmt::Display)
    /// writes (`VERSION_ID` may be empty: `ID//ARCH/RELEASE`).
    pub fn parse_identity(text: &str) -> Option<KernelId> {
        let mut parts = text.split('/');
        let (id, version_id, arch, release) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        KernelId::checked(id, version_id, arch, release)
    }

    /// A kernel id from path components: `ID`, `ARCH` and `RELEASE` must be
    /// non-empty, and none may be `.` or `..`.
    fn checked(id: &str, version_id: &str, arch: &str, release: &str) -> Option<KernelId> {
        let valid = |s: &str| !s.is_empty() && s != "." && s != "..";
        if !valid(id) || !valid(arch) || !valid(release) || version_id == ".." || version_id == "."
        {
            return None;
        }
        Some(KernelId::new(id, version_id, arch, release))
    }

    /// Whether `other` is the same distribution release and architecture
    /// (`ID`, `VERSION_ID` and `ARCH` equal).
    pub fn same_distro(&self, other: &KernelId) -> bool {
        self.id == other.id && self.version_id == other.version_id && self.arch == other.arch
    }
}

impl fmt::Display for KernelId {
    /// `ID/VERSION_ID/ARCH/RELEASE`, the form `--kernels` accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.id, self.version_id, self.arch, self.release
        )
    }
}

fn strip_dot_slash(mut path: &str) -> &str {
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path
}

/// Maps `uname -m` to btfhub's architecture directory name (`aarch64` →
/// `arm64`; everything else unchanged).
pub fn btfhub_arch(machine: &str) -> &str {
    match machine {
        "aarch64" => "arm64",
        other => other,
    }
}

/// The two os-release fields the identity uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID`, default `linux`.
    pub id: String,
    /// `VERSION_ID`, default empty.
    pub version_id: String,
}

/// Parses os-release text: each line trimmed, `KEY=value`, one pair of
/// surrounding `"` or `'` quotes stripped, no escape processing; the last
/// occurrence of a key wins. Missing keys default to `ID=linux` and an
/// empty `VERSION_ID`.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut release = OsRelease {
        id: "linux".to_owned(),
        version_id: String::new(),
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(value) = line.strip_prefix("ID=") {
            release.id = unquote(value).to_owned();
        } else if let Some(value) = line.strip_prefix("VERSION_ID=") {
            release.version_id = unquote(value).to_owned();
        }
    }
    release
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// Combines os-release text with `uname` fields into an identity (the pure
/// part of [`detect`]).
pub fn from_parts(os_release: &str, machine: &str, release: &str) -> KernelId {
    let os = parse_os_release(os_release);
    KernelId::new(os.id, os.version_id, machine, release)
}

/// The paths read for os-release, in order.
pub const OS_RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Reads this machine's identity: os-release from `/etc/os-release`, else
/// `/usr/lib/os-release`, and `uname` machine and release.
///
/// Inside a container, os-release describes the container while `uname`
/// describes the host kernel; the identity then names a kernel that no
/// distribution ships, and selection reports it as not covered.
pub fn detect() -> Result<KernelId, Error> {
    let text = read_os_release()?;
    let uts = nix::sys::utsname::uname().map_err(|e| Error::Uname(e.into()))?;
    Ok(from_parts(
        &text,
        &uts.machine().to_string_lossy(),
        &uts.release().to_string_lossy(),
    ))
}

fn read_os_release() -> Result<String, Error> {
    let [etc_path, usr_lib_path] = OS_RELEASE_PATHS;
    match std::fs::read_to_string(etc_path) {
        Ok(text) => Ok(text),
        Err(etc) => std::fs::read_to_string(usr_lib_path)
            .map_err(|usr_lib| Error::OsRelease { etc, usr_lib }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_defaults() {
        let os = parse_os_release("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\n");
        assert_eq!(os.id, "ubuntu");
        assert_eq!(os.version_id, "20.04");

        let os = parse_os_release("  ID='centos'  \n VERSION_ID='8'\n");
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("centos", "8"));

        // One pair only, no escapes, mismatched quotes kept.
        let os = parse_os_release("ID=\"\"debian\"\"\nVERSION_ID=\"11'\n");
        assert_eq!(os.id, "\"debian\"");
        assert_eq!(os.version_id, "\"11'");

        let os = parse_os_release("NAME=Arch\nID_LIKE=foo\nVERSION=1\n");
        assert_eq!(os.id, "linux");
        assert_eq!(os.version_id, "");
    }

    #[test]
    fn arch_mapping() {
        assert_eq!(btfhub_arch("aarch64"), "arm64");
        assert_eq!(btfhub_arch("x86_64"), "x86_64");
        let k = from_parts(
            "ID=fedora\nVERSION_ID=38",
            "aarch64",
            "6.2.9-300.fc38.aarch64",
        );
        assert_eq!(k.to_string(), "fedora/38/arm64/6.2.9-300.fc38.aarch64");
        assert_eq!(
            k.archive_path(),
            "btfhub-archive/fedora/38/arm64/6.2.9-300.fc38.aarch64.btf"
        );
    }

    #[test]
    fn archive_path_round_trip() {
        let k = KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic");
        assert_eq!(
            KernelId::from_archive_path(&k.archive_path()),
            Some(k.clone())
        );
        let dotted = format!("./{}", k.archive_path());
        assert_eq!(KernelId::from_archive_path(&dotted), Some(k.clone()));
        assert_eq!(
            KernelId::from_relative_path("ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz"),
            Some(k)
        );
    }

    #[test]
    fn identity_text_round_trip() {
        for k in [
            KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic"),
            KernelId::new("arch", "", "x86_64", "6.1.1-arch1-1"),
        ] {
            assert_eq!(KernelId::parse_identity(&k.to_string()), Some(k));
        }
        for bad in [
            "ubuntu/20.04/x86_64",
            "a/b/c/d/e",
            "/20.04/x86_64/r",
            "u/../x86_64/r",
            "u/1//",
        ] {
            assert_eq!(KernelId::parse_identity(bad), None, "{bad}");
        }
    }

    #[test]
    fn empty_version_id_paths() {
        let k = KernelId::new("arch", "", "x86_64", "6.1.1-arch1-1");
        assert_eq!(
            k.archive_path(),
            "btfhub-archive/arch//x86_64/6.1.1-arch1-1.btf"
        );
        assert_eq!(
            KernelId::from_archive_path(&k.archive_path()),
            Some(k.clone())
        );
        assert_eq!(
            KernelId::from_archive_path("btfhub-archive/arch/x86_64/6.1.1-arch1-1.btf"),
            Some(k)
        );
    }

    #[test]
    fn bad_archive_paths() {
        for p in [
            "package.json",
            "btfhub-archive/ubuntu/20.04/x86_64/5.4.0.o",
            "btfhub-archive/ubuntu/20.04/x86_64/extra/5.4.0.btf",
            "btfhub-archive/ubuntu/20.04/x86_64/.btf",
            "btfhub-archive/../20.04/x86_64/a.btf",
            "other/ubuntu/20.04/x86_64/a.btf",
        ] {
            assert_eq!(KernelId::from_archive_path(p), None, "{p}");
        }
    }

    #[test]
    fn detect_reads_this_machine() {
        let k = detect().expect("os-release and uname exist on a test host");
        assert!(!k.release.is_empty());
        assert_ne!(k.arch, "aarch64");
    }
}
