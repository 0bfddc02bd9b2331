//! `launcher`: runs a CO-RE eBPF tool packed by `packer` (payload appended to
//! this executable) or a package file (`launcher run PKG`), on kernels with or
//! without native BTF. See `launcher --help`.
#![cfg_attr(test, allow(clippy::unwrap_used))]
// Our own C `main` (below) instead of Rust's runtime start-up, which on a
// static glibc reads /proc/self/maps and sets up a guard stack before the
// first line runs: measured at about a tenth of a packed tool's exec →
// attached time (bench/startup).
#![cfg_attr(not(test), no_main)]

mod app;
mod btf_choice;
mod check;
mod cli;
mod decode;
mod errors;
mod globals;
mod layout;
mod layout_btf;
mod libbpf_log;
mod loader;
mod options;
mod output;
mod poll;
mod printer;
mod privileges;
mod sample;
mod sampler;
mod signals;
mod source;
mod tracefs;

/// The process entry point (C `main`, see `no_main` above): ignores SIGPIPE
/// as Rust's start-up would (a closed output pipe is an error to report, not
/// a signal that kills the tool before it detaches), runs the launcher and
/// exits with its code. Arguments come from `std::env::args_os`, which glibc
/// fills before `main` runs.
#[cfg_attr(not(test), no_mangle)]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: sets a signal disposition; no other thread exists yet.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = match app::main_with_args(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.kind.exit_code()
        }
    };
    std::process::exit(code);
}
