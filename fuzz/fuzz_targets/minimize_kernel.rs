//! Minimisation with a fuzzed kernel BTF and a fixed real object (`$BTF_FUZZ_OBJECT`, prepared
//! by fuzz/Makefile from btf/tests/bpf/fields.bpf.c): no panic, and every output must parse.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn objects() -> &'static [btf::BpfObject] {
    static OBJECTS: OnceLock<Vec<btf::BpfObject>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let paths = std::env::var("BTF_FUZZ_OBJECT")
            .unwrap_or_else(|_| panic!("set BTF_FUZZ_OBJECT to ':'-separated BPF object paths (see fuzz/Makefile)"));
        paths
            .split(':')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {p}: {e}"));
                btf::BpfObject::parse(&bytes).unwrap_or_else(|e| panic!("{p}: {e}"))
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(kernel) = btf::Btf::parse(data) else { return };
    for obj in objects() {
        if let Ok(out) = btf::minimize(&kernel, &[obj]) {
            if let Err(e) = btf::Btf::parse(&out) {
                panic!("minimised output does not parse: {e}");
            }
        }
    }
    let all: Vec<&btf::BpfObject> = objects().iter().collect();
    let _ = btf::minimize(&kernel, &all);
});
