//! `launcher`: runs a CO-RE eBPF tool packed by `packer` (payload appended to
//! this executable) or a package file (`launcher run PKG`), on kernels with or
//! without native BTF. See `launcher --help`.
#![cfg_attr(test, allow(clippy::unwrap_used))]

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

fn main() {
    let code = match app::main_with_args(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.kind.exit_code()
        }
    };
    std::process::exit(code);
}
