//! Raw BTF: `Btf::parse` must never panic; what it accepts must survive the accessors and a
//! `to_bytes` round trip (re-parsing our own output must succeed and be stable).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = btf::Btf::parse(data) else { return };
    for id in 0..btf.type_count().min(4096) {
        let _ = btf.type_by_id(id);
        let _ = btf.c_type_name(id);
    }
    let bytes = btf.to_bytes();
    let again = match btf::Btf::parse(&bytes) {
        Ok(b) => b,
        Err(e) => panic!("to_bytes output of an accepted BTF does not parse: {e}"),
    };
    assert_eq!(again.type_count(), btf.type_count(), "type count changed in the round trip");
    assert!(again.to_bytes() == bytes, "to_bytes is not stable across a round trip");
});
