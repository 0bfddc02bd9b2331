//! ELF objects: `BpfObject::parse` (.BTF + .BTF.ext) and `Btf::from_elf` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(obj) = btf::BpfObject::parse(data) {
        let local = obj.btf();
        for id in 0..local.type_count().min(4096) {
            let _ = local.c_type_name(id);
        }
    }
    let _ = btf::Btf::from_elf(data);
});
