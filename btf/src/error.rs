//! The crate's error type: every variant carries the offset, type id, kind or relocation involved.

/// Everything that can go wrong while reading, matching or minimising BTF.
///
/// Messages are lowercase and name the offending item; callers add the file or kernel name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a structure that must be there.
    #[error("truncated {what}: need {need} bytes at offset {offset}, have {have}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the read.
        offset: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The header is not a BTF header (magic, version, flags or length).
    #[error("invalid BTF header: {0}")]
    BadHeader(String),
    /// A section described by the header does not fit or overlaps.
    #[error("invalid BTF layout: {0}")]
    BadLayout(String),
    /// The string section is malformed.
    #[error("invalid BTF string section: {0}")]
    BadStrings(String),
    /// A string offset points outside the string section.
    #[error(
        "type [{type_id}]: string offset {offset} out of range (string section is {len} bytes)"
    )]
    StringOffset {
        /// Type whose record holds the offset.
        type_id: u32,
        /// The bad offset.
        offset: u32,
        /// Length of the string section.
        len: usize,
    },
    /// A type record has a kind this reader does not know and the BTF has no layout section for it.
    #[error("type [{type_id}]: unknown BTF kind {kind}")]
    UnknownKind {
        /// Type id of the record.
        type_id: u32,
        /// The raw kind number.
        kind: u8,
    },
    /// A type record's variable part runs past the type section.
    #[error("type [{type_id}] {kind}: record of {need} bytes runs past the end of the type section ({have} bytes left)")]
    TypeTruncated {
        /// Type id of the record.
        type_id: u32,
        /// Kind name.
        kind: &'static str,
        /// Bytes the record needs.
        need: usize,
        /// Bytes left.
        have: usize,
    },
    /// A type record refers to a type id that does not exist.
    #[error(
        "type [{type_id}] {kind}: refers to type id {target}, but the BTF has only {count} ids"
    )]
    TypeIdOutOfRange {
        /// Referring type.
        type_id: u32,
        /// Kind name of the referring type.
        kind: &'static str,
        /// The bad id.
        target: u32,
        /// Number of ids including void.
        count: u32,
    },
    /// A type record has an invalid field value.
    #[error("type [{type_id}] {kind}: {msg}")]
    BadType {
        /// Type id.
        type_id: u32,
        /// Kind name.
        kind: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// Too many types for the BTF format.
    #[error("too many types: {0} (BTF allows at most 1048575)")]
    TooManyTypes(usize),
    /// A walk over the type graph exceeded the depth limit (cycle or absurd nesting).
    #[error("type [{type_id}]: type chain deeper than {limit} levels (cycle?)")]
    TooDeep {
        /// Where the walk started.
        type_id: u32,
        /// The limit.
        limit: u32,
    },
    /// The ELF file could not be read.
    #[error("invalid ELF file: {0}")]
    Elf(String),
    /// The ELF file has no `.BTF` section.
    #[error("ELF file has no .BTF section (build the object with clang -g, or the kernel with CONFIG_DEBUG_INFO_BTF=y)")]
    NoBtfSection,
    /// The BPF object has no `.BTF.ext` section, so it has no CO-RE relocations to minimise for.
    #[error("BPF object has no .BTF.ext section (build it with clang -g -O2 -target bpf)")]
    NoBtfExtSection,
    /// The `.BTF.ext` section is malformed.
    #[error("invalid .BTF.ext: {0}")]
    BadExt(String),
    /// The input is in no recognised format.
    #[error("input is neither raw BTF, an ELF file with .BTF, an .xz file nor a tar archive containing one (first bytes {0:02x?})")]
    UnknownFormat(Vec<u8>),
    /// Decompression failed.
    #[error("xz decompression failed: {0}")]
    Xz(String),
    /// An x86 kernel image (bzImage / vmlinuz) could not be unpacked.
    #[error("kernel image (bzImage): {0}")]
    KernelImage(String),
    /// A tar archive could not be read or contained no BTF.
    #[error("tar archive: {0}")]
    Tar(String),
    /// A CO-RE relocation could not be processed (names program, relocation, kind, type, access).
    #[error("{0}")]
    Relocation(Box<RelocationError>),
    /// Minimisation hit a kernel type the bpftool algorithm cannot emit.
    #[error("kernel type [{type_id}] {kind}: {msg}")]
    Unsupported {
        /// Kernel type id.
        type_id: u32,
        /// Kind name.
        kind: &'static str,
        /// What is unsupported.
        msg: String,
    },
}

/// Context of a failed CO-RE relocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("program '{section}': relocation #{index} ({kind}) on [{type_id}] '{type_name}' access '{access}': {reason}")]
pub struct RelocationError {
    /// ELF section (program) of the relocation.
    pub section: String,
    /// Index of the relocation within its section.
    pub index: usize,
    /// libbpf's name for the relocation kind.
    pub kind: String,
    /// Local type id.
    pub type_id: u32,
    /// Local type name.
    pub type_name: String,
    /// Access string.
    pub access: String,
    /// What went wrong.
    pub reason: String,
}

/// Short alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
