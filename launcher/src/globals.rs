//! The object's global variables (`.rodata`, `.data`, `.bss` and their
//! `.rodata.*`-style relatives) that can be set from the command line: their
//! type from the object's BTF, their place from the ELF symbol table and their
//! initial value from the ELF section.

use crate::layout::Shape;
use crate::layout_btf::shape_of;
use btf::{Btf, Type};
use bundle::package::is_data_section;
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::HashMap;

/// Variables whose names start with this are ecc's helpers, never options.
const ECC_DUMMY_PREFIX: &str = "__eunomia_dummy";
/// The largest `.bss` whose zeros are materialised for defaults.
const MAX_BSS: usize = 64 << 20;
/// `BTF_VAR_STATIC`: file-local variables are not part of the skeleton.
const VAR_STATIC: u32 = 0;

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
    let file = object::File::parse(elf).map_err(|e| format!("not a BPF ELF object: {e}"))?;
    let mut sections: HashMap<String, (usize, Vec<u8>)> = HashMap::new();
    for s in file.sections() {
        let Ok(name) = s.name() else { continue };
        if !is_data_section(name) {
            continue;
        }
        let data = if s.kind() == object::SectionKind::UninitializedData {
            // A .bss larger than any real BPF object is not read (nor its
            // zeros allocated); its variables then default to 0.
            let size = usize::try_from(s.size()).unwrap_or(0);
            vec![0u8; if size > MAX_BSS { 0 } else { size }]
        } else {
            s.data().map(<[u8]>::to_vec).unwrap_or_default()
        };
        sections.insert(name.to_string(), (s.index().0, data));
    }
    // Offsets of named objects per section, from the symbol table (clang
    // leaves the DATASEC offsets at 0; libbpf fixes them up the same way).
    let mut offsets: HashMap<(usize, String), usize> = HashMap::new();
    for sym in file.symbols() {
        let (Some(idx), Ok(name)) = (sym.section_index(), sym.name()) else {
            continue;
        };
        if let Ok(off) = usize::try_from(sym.address()) {
            offsets.insert((idx.0, name.to_string()), off);
        }
    }

    let mut out = Vec::new();
    for id in 1..btf.type_count() {
        let Some(Type::Datasec { name, vars, .. }) = btf.type_by_id(id) else {
            continue;
        };
        let Some((index, data)) = sections.get(name) else {
            continue;
        };
        for v in vars.iter() {
            let Some(Type::Var {
                name: var_name,
                type_id,
                linkage,
            }) = btf.type_by_id(v.type_id)
            else {
                continue;
            };
            if linkage == VAR_STATIC || var_name.starts_with(ECC_DUMMY_PREFIX) {
                continue;
            }
            let Some(kind) = global_kind(btf, type_id) else {
                continue;
            };
            let offset = offsets
                .get(&(*index, var_name.to_string()))
                .copied()
                .unwrap_or(v.offset as usize);
            let size = v.size as usize;
            let initial = data
                .get(offset..offset.saturating_add(size))
                .map_or_else(|| vec![0; size], <[u8]>::to_vec);
            out.push(Global {
                name: var_name.to_string(),
                section: name.to_string(),
                offset,
                size,
                c_type: btf.unqualified_c_type_name(type_id),
                kind,
                initial,
            });
        }
    }
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
