//! The contract between `packer` (which writes packed tools) and `launcher`
//! (which runs them), as specified in `docs/FORMAT.md`.
//!
//! # Overview
//!
//! - [`identity`]: the running system's `ID/VERSION_ID/ARCH/RELEASE` and the
//!   btfhub-archive path derived from it;
//! - [`trailer`]: the 64-byte trailer that locates the payload at the end of a
//!   packed tool (FORMAT.md §1.1);
//! - [`package`]: the ecc-compatible `package.json` model (FORMAT.md §3);
//! - [`payload`]: the payload tar with `package.json` and per-kernel BTFs
//!   (FORMAT.md §2, §5), the latter as [`kernel_btfs::KernelBtfs`];
//! - [`btf_pack`]: the BTF pack of a packed tool, every kernel's BTF in
//!   one LZMA stream (FORMAT.md §2.2);
//! - [`codec`]: the payload's compression (lz4, xz, gzip or none),
//!   recognised by its magic bytes;
//! - [`select`]: which BTF the launcher uses at run time (FORMAT.md §4);
//! - [`btfhub`]: kernel selectors and scanning a btfhub-archive directory.
//!
//! Nothing else in the workspace parses or writes these bytes.
//!
//! # Example
//!
//! ```
//! use bundle::{identity::KernelId, package::{Meta, Package}, payload::Payload, trailer};
//! use std::{collections::BTreeMap, sync::Arc};
//!
//! let package = Package::new(b"\x7fELF...", Meta::new("demo_bpf"));
//! let mut btfs = BTreeMap::new();
//! btfs.insert(KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic"), Arc::from(&b"btf"[..]));
//! let payload = Payload { package, btfs: btfs.into() };
//! let tool = trailer::append_payload(b"launcher", &payload.to_tar_gz()?);
//! let back = Payload::from_bytes(&trailer::read_payload(&tool)?.expect("a payload"))?;
//! assert_eq!(back.btfs.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod btf_pack;
pub mod btfhub;
pub mod codec;
mod error;
pub mod identity;
pub mod kernel_btfs;
pub mod package;
pub mod payload;
pub mod select;
pub mod trailer;
mod version;

pub use error::Error;
pub use trailer::TrailerError;
pub use version::compare_releases;
