//! Kernel inputs (raw BTF, ELF, .btf.tar.xz, .xz): `decode_kernel_btf` must never panic, and
//! what it returns must be raw BTF that `Btf::parse` either accepts or rejects without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = btf::decode_kernel_btf(data) {
        let _ = btf::Btf::parse(&raw);
    }
});
