//! The sections and symbols of an ELF file (BPF object or vmlinux), read in
//! place: `.BTF` and `.BTF.ext`, and what [`crate::section_vars`] needs.
//!
//! The `object` crate parses the headers; names are looked up here rather
//! than with its string-table helper, which goes through `memchr`: memchr
//! detects CPU features at first use (about ten `cpuid`s, each a VM exit
//! costing microseconds on a virtual machine), a measurable share of a packed
//! tool's start-up (bench/startup) spent on a few short names.

use object::elf::{FileHeader32, FileHeader64, SHN_LORESERVE, SHT_NOBITS, SHT_SYMTAB};
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::Endianness;

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
    let image = ElfImage::parse(elf)?;
    Ok(BtfSections {
        btf: image.section_copy(".BTF")?,
        ext: image.section_copy(".BTF.ext")?,
    })
}

/// One section header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ElfSection<'a> {
    /// Its index in the section header table.
    pub index: usize,
    /// Its name (without the NUL); empty if the name table lacks it.
    pub name: &'a str,
    /// Its bytes.
    pub bytes: SectionBytes<'a>,
}

/// Where a section's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionBytes<'a> {
    /// In the file.
    InFile(&'a [u8]),
    /// It occupies none in the file (`SHT_NOBITS`, e.g. `.bss`: zeros).
    NoBits,
    /// Its header points past the end of the file (an error only for the
    /// one who needs them).
    OutOfRange,
}

/// One symbol of `.symtab` defined in a regular section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ElfSymbol<'a> {
    /// Index of the section it is defined in.
    pub section: usize,
    /// Its name.
    pub name: &'a str,
    /// `st_value` (the offset in its section, in a relocatable object).
    pub value: u64,
}

/// The section table and symbols of an ELF file of either class and byte order.
pub(crate) struct ElfImage<'a> {
    sections: Vec<ElfSection<'a>>,
    symbols: Vec<ElfSymbol<'a>>,
}

impl<'a> ElfImage<'a> {
    /// Reads the section headers and `.symtab` of `data`.
    pub(crate) fn parse(data: &'a [u8]) -> Result<ElfImage<'a>> {
        const ELFCLASS32: u8 = 1;
        const ELFCLASS64: u8 = 2;
        match data.get(4) {
            Some(&ELFCLASS64) => parse_as::<FileHeader64<Endianness>>(data),
            Some(&ELFCLASS32) => parse_as::<FileHeader32<Endianness>>(data),
            _ => Err(Error::Elf(
                "not an ELF file of class 32 or 64 (byte 4 of the header)".into(),
            )),
        }
    }

    /// The first section named `name`.
    pub(crate) fn section(&self, name: &str) -> Option<&ElfSection<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// A copy of the bytes of the first section named `name`; `None` if
    /// there is no such section, an error if its bytes are not in the file.
    pub(crate) fn section_copy(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.section(name).map(|s| s.bytes) {
            None => Ok(None),
            Some(SectionBytes::InFile(d)) => Ok(Some(d.to_vec())),
            Some(SectionBytes::NoBits) => Err(Error::Elf(format!(
                "section {name} has no bytes in the file (SHT_NOBITS)"
            ))),
            Some(SectionBytes::OutOfRange) => {
                Err(Error::Elf(format!("section {name} lies outside the file")))
            }
        }
    }

    /// Every section, in header order.
    pub(crate) fn sections(&self) -> &[ElfSection<'a>] {
        &self.sections
    }

    /// The symbols of `.symtab` defined in a regular section (not undefined,
    /// absolute or common), in table order.
    pub(crate) fn symbols(&self) -> &[ElfSymbol<'a>] {
        &self.symbols
    }
}

fn elf_error(what: &str) -> impl Fn(object::read::Error) -> Error + '_ {
    move |e| Error::Elf(format!("{what}: {e}"))
}

fn parse_as<'a, H: FileHeader<Endian = Endianness>>(data: &'a [u8]) -> Result<ElfImage<'a>> {
    let header = H::parse(data).map_err(elf_error("ELF header"))?;
    let endian = header.endian().map_err(elf_error("ELF header"))?;
    let headers = header
        .section_headers(endian, data)
        .map_err(elf_error("section headers"))?;
    let shstrndx = header
        .shstrndx(endian, data)
        .map_err(elf_error("section name table index"))?;
    let section_bytes = |sh: &H::SectionHeader| -> SectionBytes<'a> {
        if sh.sh_type(endian) == SHT_NOBITS {
            return SectionBytes::NoBits;
        }
        sh.data(endian, data)
            .map_or(SectionBytes::OutOfRange, SectionBytes::InFile)
    };
    let table_bytes = |index: u32| match headers.get(index as usize).map(section_bytes) {
        Some(SectionBytes::InFile(bytes)) => bytes,
        _ => &[],
    };
    let names = table_bytes(shstrndx);

    let mut sections = Vec::with_capacity(headers.len());
    let mut symbols = Vec::new();
    for (index, sh) in headers.iter().enumerate() {
        sections.push(ElfSection {
            index,
            name: name_at(names, sh.sh_name(endian)),
            bytes: section_bytes(sh),
        });
        if sh.sh_type(endian) == SHT_SYMTAB && symbols.is_empty() {
            let table: &[H::Sym] = sh
                .data_as_array(endian, data)
                .map_err(elf_error("symbol table"))?;
            let strings = table_bytes(sh.sh_link(endian));
            symbols = table
                .iter()
                .filter_map(|sym| {
                    let shndx = sym.st_shndx(endian);
                    // 0 is undefined; SHN_LORESERVE and up are special
                    // (absolute, common, extended index).
                    (shndx != 0 && shndx < SHN_LORESERVE).then(|| ElfSymbol {
                        section: usize::from(shndx),
                        name: name_at(strings, sym.st_name(endian)),
                        value: sym.st_value(endian).into(),
                    })
                })
                .collect();
        }
    }
    Ok(ElfImage { sections, symbols })
}

/// The NUL-terminated UTF-8 name at `offset` of a string table; empty when
/// out of range, unterminated or not UTF-8 (such a name matches nothing).
fn name_at(table: &[u8], offset: u32) -> &str {
    let tail = table.get(offset as usize..).unwrap_or(&[]);
    let name = match tail.iter().position(|&b| b == 0) {
        Some(end) => &tail[..end],
        None => &[],
    };
    std::str::from_utf8(name).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_a_string_table() {
        let table = b"\0.BTF\0.bss\0bad\xff\0open";
        assert_eq!(name_at(table, 0), "");
        assert_eq!(name_at(table, 1), ".BTF");
        assert_eq!(name_at(table, 6), ".bss");
        assert_eq!(name_at(table, 11), "", "not UTF-8");
        assert_eq!(name_at(table, 17), "", "unterminated");
        assert_eq!(name_at(table, 1000), "", "out of range");
    }

    #[test]
    fn not_elf_is_an_error() {
        assert!(ElfImage::parse(b"").is_err());
        assert!(ElfImage::parse(b"\x7fELF\x03").is_err());
        assert!(
            ElfImage::parse(b"\x7fELF\x02\x01").is_err(),
            "truncated header"
        );
    }
}
