//! Shared helpers for the end-to-end tests of `packer` and `launcher`.
//!
//! The tests drive the release binaries the Makefile builds (`make test`
//! exports `BPFC_BIN_DIR` and `BPFC_EXAMPLES_DIR`) against the running kernel:
//! they pack the example programs, run the packed tools as root (with
//! `/sys/kernel/btf` hidden where the embedded BTF must be used), trigger the
//! traced actions and check the decoded events.
//!
//! - [`paths`]: where the binaries, the example objects and the sample
//!   btfhub archive are;
//! - [`privilege`]: root checks (a skip outside CI, a failure in CI), the
//!   lock that serialises BPF tests, tracefs;
//! - [`process`]: running commands with bounded waits, hidden BTF, an
//!   unprivileged user, and interrupting long-running tools;
//! - [`ecli`]: fixtures in eunomia's formats (ecc package.json, ecc and
//!   btfgen tars) and helpers for the `writesize` example;
//! - [`events`]: parsing the launcher's table and JSON output;
//! - [`tool`]: packing with `packer` and the identity of this machine.
//!
//! # Running
//!
//! `make test` (as root) builds everything and runs them. By hand:
//! `make build examples`, then `cargo test -p e2e` as root with the same
//! `CARGO_BUILD_TARGET`/`RUSTFLAGS` as the Makefile; `BPFC_BIN_DIR`,
//! `BPFC_EXAMPLES_DIR` and `BTFHUB_ARCHIVE` override where things are. Without
//! root the BPF tests print a skip notice; with `CI=true` they fail instead,
//! as does a missing binary or example. Only the sample archive is optional:
//! without it the tools are packed for the host kernel alone.

pub mod ecli;
pub mod events;
pub mod paths;
pub mod privilege;
pub mod process;
pub mod tool;

pub use events::{json_events, table_rows, Row};
pub use paths::{archive, example, launcher, packer, Tmp};
pub use privilege::{bpf_lock, in_ci, root_or_skip};
pub use process::{as_nobody, hidden_btf, run, trigger_until_seen, Finished, Running, NOBODY};
pub use tool::{
    host_identity, my_pid, other_kernel_archive, pack, pack_with, Kernels, Output, HOST_BTF,
};
