//! The variables of a BPF object's data sections (`.rodata`, `.data`,
//! `.bss`, `.maps`, ...): each DATASEC of the object's BTF that names an ELF
//! section, with every variable's place taken as libbpf takes it.

use std::collections::HashMap;

use crate::btf::Btf;
use crate::elf::{ElfImage, SectionBytes};
use crate::error::Result;
use crate::types::Type;

/// `BTF_VAR_STATIC`: a file-local variable.
const VAR_STATIC: u32 = 0;
/// The largest variable of a zero-filled (`.bss`-like) section whose zeros
/// are handed out as its initial value; larger ones get an empty one.
const MAX_ZERO_FILL: u64 = 64 << 20;

/// One variable of a data section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionVar {
    /// The ELF section (and DATASEC) name.
    pub section: String,
    /// The variable's name.
    pub name: String,
    /// Its type (the VAR's target type) in the object's BTF.
    pub type_id: u32,
    /// Offset in the section: from the ELF symbol table (clang leaves the
    /// DATASEC offsets at 0 and libbpf fills them in the same way), else the
    /// DATASEC's.
    pub offset: u64,
    /// Size in bytes, from the DATASEC.
    pub size: u64,
    /// `static` (file-local) variables are not part of a skeleton.
    pub is_static: bool,
    /// Its initial bytes: zeros in a zero-filled section, empty when they are
    /// out of the section's range or the section lies outside the file (or
    /// a zero-filled variable is huge).
    pub initial: Vec<u8>,
}

/// Every variable of every DATASEC of `btf` (the object's own BTF) that
/// names a section of the ELF `elf`, in DATASEC order.
pub fn section_vars(elf: &[u8], btf: &Btf) -> Result<Vec<SectionVar>> {
    let image = ElfImage::parse(elf)?;
    let mut sections: HashMap<&str, (usize, SectionBytes<'_>)> = HashMap::new();
    for s in image.sections().iter().filter(|s| !s.name.is_empty()) {
        sections.insert(s.name, (s.index, s.bytes));
    }
    let mut symbols: HashMap<(usize, &str), u64> = HashMap::new();
    for sym in image.symbols() {
        symbols.insert((sym.section, sym.name), sym.value);
    }

    let mut out = Vec::new();
    for id in 1..btf.type_count() {
        let Some(Type::Datasec { name, vars, .. }) = btf.type_by_id(id) else {
            continue;
        };
        let Some(&(index, data)) = sections.get(name) else {
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
            let offset = symbols
                .get(&(index, var_name))
                .copied()
                .unwrap_or(u64::from(v.offset));
            let size = u64::from(v.size);
            let initial = match data {
                SectionBytes::InFile(bytes) => usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(offset.saturating_add(size)).ok())
                    .and_then(|(start, end)| bytes.get(start..end))
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default(),
                SectionBytes::NoBits if size <= MAX_ZERO_FILL => vec![0; v.size as usize],
                SectionBytes::NoBits | SectionBytes::OutOfRange => Vec::new(),
            };
            out.push(SectionVar {
                section: name.to_string(),
                name: var_name.to_string(),
                type_id,
                offset,
                size,
                is_static: linkage == VAR_STATIC,
                initial,
            });
        }
    }
    Ok(out)
}
