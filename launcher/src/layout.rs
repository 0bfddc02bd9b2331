//! The shape of an event record, resolved once from BTF and then used to
//! decode every record (see `decode`). Kept independent of the BTF parser so
//! decoding and formatting can be tested with hand-built layouts.

/// How the bytes of one value are laid out and should be shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Integer of `size` bytes (1, 2, 4, 8 or 16).
    Int {
        /// Size in bytes.
        size: u32,
        /// Two's complement signed.
        signed: bool,
    },
    /// C `_Bool` / BTF bool encoding, `size` bytes.
    Bool {
        /// Size in bytes.
        size: u32,
    },
    /// Floating point of `size` bytes (4 or 8; others are shown as hex).
    Float {
        /// Size in bytes.
        size: u32,
    },
    /// A pointer (shown as its address).
    Ptr {
        /// Size in bytes (8 on 64-bit targets).
        size: u32,
    },
    /// An enum: shown as `NAME(value)`.
    Enum {
        /// Size in bytes.
        size: u32,
        /// Signed underlying type.
        signed: bool,
        /// Enumerators in declaration order.
        values: Vec<(String, i128)>,
    },
    /// `char[N]`: a string cut at the first NUL.
    CharArray {
        /// N.
        len: u32,
    },
    /// Any other array.
    Array {
        /// Element shape.
        elem: Box<Shape>,
        /// Element size in bytes.
        elem_size: u32,
        /// Number of elements.
        len: u32,
    },
    /// A struct or union (members carry their own offsets).
    Record {
        /// Members in declaration order; anonymous members are flattened.
        fields: Vec<Field>,
    },
    /// Anything that cannot be shown structurally (void, fwd, func): hex bytes.
    Opaque {
        /// Size in bytes.
        size: u32,
    },
}

/// One named member of a struct or union.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Member name.
    pub name: String,
    /// Offset from the start of the enclosing record, in bits.
    pub bit_offset: u64,
    /// Width in bits when this is a bitfield.
    pub bitfield_size: Option<u32>,
    /// What the member holds.
    pub shape: Shape,
}

/// The layout of the event struct records are decoded with.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLayout {
    /// The struct name (e.g. `event`).
    pub name: String,
    /// `sizeof(struct …)`.
    pub size: u32,
    /// Top-level members (the table columns / JSON keys).
    pub fields: Vec<Field>,
}
