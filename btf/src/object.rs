//! [`BpfObject`]: a compiled BPF ELF object's BTF and CO-RE relocations.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::ext::{parse_core_relos, RelocSection};

/// A BPF object file: its `.BTF` and the CO-RE relocations of its `.BTF.ext` (if any).
#[derive(Debug, Clone)]
pub struct BpfObject {
    btf: Btf,
    relocs: Option<Vec<RelocSection>>,
}

impl BpfObject {
    /// Parses an ELF BPF object. `.BTF` is required; `.BTF.ext` is optional here.
    pub fn parse(elf: &[u8]) -> Result<BpfObject> {
        let s = crate::elf::btf_sections(elf)?;
        let btf = Btf::parse(&s.btf.ok_or(Error::NoBtfSection)?)?;
        let relocs = match s.ext {
            Some(ext) => Some(parse_core_relos(&ext, &btf)?),
            None => None,
        };
        Ok(BpfObject { btf, relocs })
    }

    /// The object's own BTF (types of maps, events, programs).
    pub fn btf(&self) -> &Btf {
        &self.btf
    }

    /// True if the object has a `.BTF.ext` section.
    pub fn has_btf_ext(&self) -> bool {
        self.relocs.is_some()
    }

    /// CO-RE relocations per section, in file order (empty without `.BTF.ext`).
    pub fn core_relocs(&self) -> &[RelocSection] {
        self.relocs.as_deref().unwrap_or(&[])
    }

    /// Total number of CO-RE relocation records.
    pub fn core_reloc_count(&self) -> usize {
        self.core_relocs().iter().map(|s| s.relos.len()).sum()
    }
}
