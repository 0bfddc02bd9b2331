//! Pure-Rust BTF: reader/writer, `.BTF.ext` CO-RE records, libbpf-exact CO-RE matching and a
//! minimiser equivalent to `bpftool gen min_core_btf`. Bytes in, bytes out; no file I/O.
//!
//! # Overview
//! - [`Btf::parse`] / [`Btf::from_elf`] read and validate BTF once; accessors are then infallible.
//! - [`decode_kernel_btf`] turns raw BTF, a vmlinux ELF, a btfhub `.btf.tar.xz` or `.xz` into raw BTF.
//! - [`BpfObject::parse`] reads a BPF object's `.BTF` and `.BTF.ext`.
//! - [`Minimizer`] / [`minimize`] keep only what the objects' CO-RE relocations need.
//! - [`BtfBuilder`] writes raw BTF with deduplicated strings.
//!
//! # Example
//! ```no_run
//! # fn main() -> Result<(), btf::Error> {
//! let kernel = btf::Btf::parse(&btf::decode_kernel_btf(&std::fs::read("5.4.0-42-generic.btf.tar.xz").unwrap())?)?;
//! let obj = btf::BpfObject::parse(&std::fs::read("prog.bpf.o").unwrap())?;
//! let small = btf::minimize(&kernel, &[&obj])?;
//! # let _ = small; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod btf;
mod c_name;
mod core;
mod elf;
mod error;
mod ext;
mod header;
mod input;
mod kernel_image;
mod kind;
mod minimize;
mod object;
mod parse;
mod raw;
mod strings;
mod types;
mod write;

pub use crate::btf::{Btf, MAX_RESOLVE_DEPTH};
pub use crate::core::ReloKind;
pub use crate::error::{Error, RelocationError, Result};
pub use crate::ext::{CoreRelo, RelocSection};
pub use crate::header::Endian;
pub use crate::input::decode_kernel_btf;
pub use crate::kernel_image::{extract_vmlinux, is_bzimage};
pub use crate::kind::Kind;
pub use crate::minimize::{minimize, Minimizer};
pub use crate::object::BpfObject;
pub use crate::strings::StringsBuilder;
pub use crate::types::{
    DatasecVar, DatasecVars, EnumValue, EnumValues, Member, Members, Param, Params, Type,
};
pub use crate::write::{BtfBuilder, IntEncoding};
