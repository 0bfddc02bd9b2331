//! Finding `.BTF` and `.BTF.ext` in an ELF file.

use object::{Object, ObjectSection};

use crate::error::{Error, Result};

/// The BTF-related sections of an ELF file (copied out).
pub(crate) struct BtfSections {
    pub btf: Option<Vec<u8>>,
    pub ext: Option<Vec<u8>>,
}

/// True if the data starts with the ELF magic.
pub(crate) fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// Reads the `.BTF` and `.BTF.ext` sections of an ELF file of any class and byte order.
pub(crate) fn btf_sections(elf: &[u8]) -> Result<BtfSections> {
    let file = object::File::parse(elf).map_err(|e| Error::Elf(e.to_string()))?;
    let get = |name: &str| -> Result<Option<Vec<u8>>> {
        match file.section_by_name(name) {
            None => Ok(None),
            Some(s) => s
                .data()
                .map(|d| Some(d.to_vec()))
                .map_err(|e| Error::Elf(format!("section {name}: {e}"))),
        }
    };
    Ok(BtfSections {
        btf: get(".BTF")?,
        ext: get(".BTF.ext")?,
    })
}
