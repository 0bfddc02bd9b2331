//! Pure-Rust BTF: reader/writer, `.BTF.ext` CO-RE records, libbpf-exact CO-RE matching and a
//! minimiser equivalent to `bpftool gen min_core_btf`. Bytes in, bytes out; no file I/O.
//!
//! # Overview
//! - [`Btf::parse`] / [`Btf::from_vec`] / [`Btf::from_elf`] read raw BTF of either byte order
//!   (24- or 32-byte header, layout section, every kind incl. ENUM64/DECL_TAG/TYPE_TAG, 24-bit
//!   vlen) and validate it in one pass; accessors are infallible afterwards. `from_vec` takes
//!   ownership and avoids copying the blob.
//! - [`decode_kernel_btf`] turns raw BTF, a vmlinux ELF, a bzImage, a btfhub `.btf.tar.xz`, an
//!   `.xz` or a tar into raw BTF.
//! - [`BpfObject::parse`] reads a BPF object's `.BTF` and the CO-RE records of its `.BTF.ext`.
//! - [`Minimizer`] / [`minimize`] keep only what the objects' CO-RE relocations need, with
//!   bpftool's candidate search, matching (libbpf `relo_core.c` semantics), marking rules and
//!   emission order, so the output is byte-identical to bpftool's.
//! - [`BtfBuilder`] writes raw BTF with deduplicated strings; [`Btf::to_bytes`] round-trips.
//! - [`Btf::c_type_name`] spells a type in C.
//!
//! Every walk over the type graph is bounded (depth limits as in libbpf plus step budgets where
//! libbpf itself would recurse without bound), and types that contain themselves by value are
//! rejected at parse time.
//!
//! # Example
//! ```no_run
//! # fn main() -> Result<(), btf::Error> {
//! let archive = std::fs::read("5.4.0-42-generic.btf.tar.xz").unwrap();
//! let kernel = btf::Btf::from_vec(btf::decode_kernel_btf(&archive)?)?;
//! let obj = btf::BpfObject::parse(&std::fs::read("prog.bpf.o").unwrap())?;
//! let small: Vec<u8> = btf::minimize(&kernel, &[&obj])?;
//! # let _ = small; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod btf;
mod c_name;
mod canonical;
mod core;
mod delta;
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
mod section_vars;
mod strings;
mod types;
mod write;

pub use crate::btf::{Btf, MAX_RESOLVE_DEPTH};
pub use crate::canonical::canonical_order;
pub use crate::core::ReloKind;
pub use crate::delta::{delta_decode, delta_encode};
pub use crate::error::{Error, RelocationError, Result};
pub use crate::ext::{CoreRelo, RelocSection};
pub use crate::header::Endian;
pub use crate::input::decode_kernel_btf;
pub use crate::kernel_image::{extract_vmlinux, is_bzimage};
pub use crate::kind::Kind;
pub use crate::minimize::{minimize, Minimizer};
pub use crate::object::BpfObject;
pub use crate::section_vars::{section_vars, SectionVar};
pub use crate::strings::StringsBuilder;
pub use crate::types::{
    DatasecVar, DatasecVars, EnumValue, EnumValues, Member, Members, Param, Params, Type,
};
pub use crate::write::{BtfBuilder, IntEncoding};
