//! End-to-end tests: the release `packer` and `launcher` against the running
//! kernel. One test binary, one module per area (see `e2e` for the helpers).

mod static_binary;
