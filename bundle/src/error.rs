//! The crate's error type.

use std::path::PathBuf;

use crate::trailer::TrailerError;

/// Everything that can go wrong while reading or writing the formats of
/// `docs/FORMAT.md`. Messages name what is wrong and, where it helps, what to
/// do; callers add the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trailer of a packed tool is invalid.
    #[error(transparent)]
    Trailer(#[from] TrailerError),

    /// Neither `/etc/os-release` nor `/usr/lib/os-release` could be read.
    #[error("cannot read os-release: /etc/os-release: {etc}; /usr/lib/os-release: {usr_lib}")]
    OsRelease {
        /// Why `/etc/os-release` could not be read.
        etc: std::io::Error,
        /// Why `/usr/lib/os-release` could not be read.
        usr_lib: std::io::Error,
    },

    /// `uname(2)` failed.
    #[error("uname failed: {0}")]
    Uname(std::io::Error),

    /// `package.json` is not valid JSON or does not have the ecc package shape.
    #[error("package.json is not a valid eunomia package: {0}")]
    PackageJson(#[source] serde_json::Error),

    /// `bpf_object` is not valid standard base64.
    #[error("package.json: bpf_object is not valid base64: {0}")]
    ObjectBase64(#[source] base64::DecodeError),

    /// `bpf_object` is not a valid zlib stream.
    #[error("package.json: bpf_object is not valid zlib data: {0}")]
    ObjectZlib(#[source] std::io::Error),

    /// The decompressed object's size differs from `bpf_object_size`.
    #[error(
        "package.json: bpf_object decompresses to {actual} bytes but bpf_object_size says {declared}; the package is corrupt, rebuild it"
    )]
    ObjectSizeMismatch {
        /// `bpf_object_size`.
        declared: u64,
        /// The actual decompressed size (or a lower bound when it is too large).
        actual: u64,
    },

    /// `bpf_object_size` exceeds what a reader accepts.
    #[error("package.json: bpf_object_size {declared} exceeds the limit of {limit} bytes")]
    ObjectTooLarge {
        /// `bpf_object_size`.
        declared: u64,
        /// The limit.
        limit: u64,
    },

    /// The payload could not be decompressed or is not a tar.
    #[error("payload is not a valid {what}: {source}")]
    PayloadFormat {
        /// What the payload was taken to be (`xz stream`, `gzip stream`, `tar archive`).
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are neither JSON, xz, gzip nor a tar archive.
    #[error(
        "not a package: expected package.json, a tar, a tar.xz, a tar.gz or a tar.lz4 (found neither '{{', the xz magic fd 37 7a 58 5a 00, the gzip magic 1f 8b, the lz4 magic 04 22 4d 18 nor a ustar header; first bytes: {first_bytes})"
    )]
    NotAPackage {
        /// Hex of the first few bytes.
        first_bytes: String,
    },

    /// The payload or one of its members is larger than readers accept.
    #[error("payload {what} exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// What is too large.
        what: String,
        /// The limit.
        limit: u64,
    },

    /// A tar member name is absolute or contains `..`.
    #[error("payload member '{0}' escapes the archive root (absolute path or '..')")]
    PathTraversal(String),

    /// A tar hard link points at a member that does not precede it.
    #[error("payload member '{member}' is a hard link to '{target}', which is not an earlier file in the archive")]
    DanglingHardLink {
        /// The hard link member.
        member: String,
        /// Its link name.
        target: String,
    },

    /// Two members name the same path.
    #[error("payload has two members named '{0}'")]
    DuplicateMember(String),

    /// The tar has no `package.json` at its root.
    #[error("payload has no package.json at its root (members: {members})")]
    MissingPackageJson {
        /// Comma-separated member names seen, possibly shortened.
        members: String,
    },

    /// A `btfhub-archive/` member does not follow `ID/VERSION_ID/ARCH/RELEASE.btf`.
    #[error("payload member '{0}' is not btfhub-archive/<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf")]
    BadBtfMemberPath(String),

    /// The BTF pack (FORMAT.md §2.2) is damaged.
    #[error("payload member btfhub-archive.btfpack: {0}; the tool is corrupt, rebuild it with `packer build`")]
    BadPack(String),

    /// A packed tool's payload has no object: neither an object member nor
    /// `bpf_object` in `package.json`.
    #[error("payload has no BPF object ({member} is missing and package.json has no bpf_object); rebuild it with `packer build`", member = crate::payload::OBJECT_MEMBER)]
    MissingObject,

    /// Writing the tar failed.
    #[error("cannot write payload tar: {0}")]
    TarWrite(#[source] std::io::Error),

    /// A kernel selector could not be parsed.
    #[error(
        "invalid kernel selector '{selector}': {reason}; expected ID[/VERSION_ID[/ARCH[/RELEASE]]], 'all' or 'host' (e.g. ubuntu/20.04 or ubuntu/20.04/x86_64/5.4.0-26-generic)"
    )]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A kernel selector matches no kernel in the archive.
    #[error("kernel selector '{selector}' matches no kernel in {archive}; available: {available}")]
    SelectorMatchesNothing {
        /// The selector as given.
        selector: String,
        /// The archive directory.
        archive: PathBuf,
        /// A summary of what the archive has.
        available: String,
    },

    /// The btfhub-archive directory cannot be read.
    #[error("cannot read btfhub archive {path}: {source}")]
    ArchiveRead {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
