//! The object's global variables (`.rodata`, `.data`, `.bss` and their
//! `.rodata.*`-style relatives) that can be set from the command line, from
//! [`btf::section_vars`]: their type from the object's BTF, their place from
//! the ELF symbol table and their initial value from the ELF section.

use crate::layout::Shape;
use crate::layout_btf::shape_of;
use btf::{Btf, Type};
use bundle::package::is_data_section;

/// Variables whose names start with this are ecc's helpers, never options.
const ECC_DUMMY_PREFIX: &str = "__eunomia_dummy";

/// How a global's bytes are read and written.
#[derive(Debug, Clone, PartialEq)]
pub enum GlobalKind {
    /// Integer of `size` bytes (1, 2, 4, 8 or 16).
    Int {
        /// Size in bytes.
        size: u32,
        /// Two's complement signed.
        signed: bool,
    },
    /// `bool` / `_Bool`.
    Bool {
        /// Size in bytes.
        size: u32,
    },
    /// `char[len]`: a NUL-terminated string of at most `len - 1` bytes.
    Chars {
        /// Array length.
        len: u32,
    },
    /// An enum, set by enumerator name or number.
    Enum {
        /// The enum's name (`""` when anonymous).
        type_name: String,
        /// Size in bytes.
        size: u32,
        /// Signed underlying type.
        signed: bool,
        /// Enumerators.
        values: Vec<(String, i128)>,
    },
    /// `float` (4) or `double` (8).
    Float {
        /// Size in bytes.
        size: u32,
    },
}

/// A settable global variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    /// The variable name.
    pub name: String,
    /// Its ELF section (`.rodata`, `.bss`, ...).
    pub section: String,
    /// Offset inside the section.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Its C type as BTF names it (`pid_t`, `char[16]`).
    pub c_type: String,
    /// How it is parsed and written.
    pub kind: GlobalKind,
    /// Its initial bytes in the object (zeros for `.bss`).
    pub initial: Vec<u8>,
}

/// Every global of `elf` that can be set from the command line, in section
/// then offset order. Variables of other types (pointers, structs, arrays
/// other than `char[]`) are left out.
pub fn settable_globals(elf: &[u8], btf: &Btf) -> Result<Vec<Global>, String> {
    let vars = btf::section_vars(elf, btf).map_err(|e| format!("not a BPF ELF object: {e}"))?;
    let mut out: Vec<Global> = vars
        .into_iter()
        .filter(|v| {
            is_data_section(&v.section) && !v.is_static && !v.name.starts_with(ECC_DUMMY_PREFIX)
        })
        .filter_map(|v| {
            let kind = global_kind(btf, v.type_id)?;
            let (offset, size) = (
                usize::try_from(v.offset).ok()?,
                usize::try_from(v.size).ok()?,
            );
            let initial = if v.initial.len() == size {
                v.initial
            } else {
                vec![0; size]
            };
            Some(Global {
                c_type: btf.unqualified_c_type_name(v.type_id),
                name: v.name,
                section: v.section,
                offset,
                size,
                kind,
                initial,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.section, a.offset).cmp(&(&b.section, b.offset)));
    Ok(out)
}

fn global_kind(btf: &Btf, type_id: u32) -> Option<GlobalKind> {
    let enum_name = enum_type_name(btf, type_id);
    match shape_of(btf, type_id).ok()? {
        Shape::Int { size, signed } => Some(GlobalKind::Int { size, signed }),
        Shape::Bool { size } => Some(GlobalKind::Bool { size }),
        Shape::CharArray { len } if len > 0 => Some(GlobalKind::Chars { len }),
        Shape::Enum {
            size,
            signed,
            values,
        } => Some(GlobalKind::Enum {
            type_name: enum_name,
            size,
            signed,
            values,
        }),
        Shape::Float { size } if size == 4 || size == 8 => Some(GlobalKind::Float { size }),
        _ => None,
    }
}

fn enum_type_name(btf: &Btf, id: u32) -> String {
    let rid = btf.resolve(id);
    match btf.type_by_id(rid) {
        Some(Type::Enum { name, .. } | Type::Enum64 { name, .. }) => name.to_string(),
        _ => String::new(),
    }
}
