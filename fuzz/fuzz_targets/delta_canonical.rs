//! The BTF pack's encodings: `delta_decode` (which the launcher runs on pack blobs) must never
//! panic; for BTF that parses, the delta form must round-trip byte for byte and
//! `canonical_order` must give parseable BTF with the same number of types that is its own
//! canonical order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = btf::delta_decode(data);
    let Ok(btf) = btf::Btf::parse(data) else {
        return;
    };
    let encoded = match btf::delta_encode(data) {
        Ok(e) => e,
        Err(e) => panic!("delta_encode refuses BTF that parses: {e}"),
    };
    assert!(
        btf::delta_decode(&encoded).ok().as_deref() == Some(data),
        "the delta form does not round-trip"
    );
    let Ok(canonical) = btf::canonical_order(data) else {
        return;
    };
    let again = match btf::Btf::parse(&canonical) {
        Ok(b) => b,
        Err(e) => panic!("canonical_order output does not parse: {e}"),
    };
    assert_eq!(
        again.type_count(),
        btf.type_count(),
        "canonical_order changed the type count"
    );
    assert!(
        btf::canonical_order(&canonical).ok().as_deref() == Some(&canonical[..]),
        "canonical order is not a fixed point"
    );
});
