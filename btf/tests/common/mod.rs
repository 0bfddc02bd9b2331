//! Shared helpers of the btf integration tests and the `minimize` bench: where the inputs are
//! (sample kernels, example objects, test-only BPF programs), the external tools (bpftool,
//! clang) and a tiny raw-BTF writer for synthetic and malformed inputs.
//!
//! Every test binary uses only part of this module.
#![allow(dead_code)]

pub mod btf_ext;
pub mod btf_writer;
pub mod env;
pub mod kernels;
pub mod objects;
pub mod synthetic;
pub mod tools;
