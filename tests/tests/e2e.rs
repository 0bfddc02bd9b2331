//! End-to-end tests: the release `packer` and `launcher` against the running
//! kernel. One test binary, one module per area (see the `e2e` crate for the
//! helpers). Tests that load BPF need root and take `e2e::bpf_lock()`.

mod check;
mod compression;
mod corrupt;
mod coverage;
mod ecli_inputs;
mod ecli_options;
mod ecli_types;
mod events;
mod execsnoop;
mod min_btf;
mod static_binary;
