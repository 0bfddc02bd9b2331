//! Every payload compression `packer build --compression` offers gives a
//! tool that runs on the embedded BTF (docs/FORMAT.md §2: readers tell them
//! apart by content).

use std::fs;

use e2e::{
    bpf_lock, example, hidden_btf, pack_with, packer, root_or_skip, table_rows, trigger_until_seen,
    Kernels, Output, Running, Tmp,
};

use crate::execsnoop::exec_true;

/// The first bytes of each compression's payload.
fn payload_starts_with(tool: &[u8], magic: &[u8]) -> bool {
    let Some(trailer) = tool.len().checked_sub(64).and_then(|at| tool.get(at..)) else {
        return false;
    };
    let offset = trailer
        .get(32..40)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .and_then(|o| usize::try_from(o).ok());
    offset
        .and_then(|o| tool.get(o..o + magic.len()))
        .is_some_and(|head| head == magic)
}

#[test]
fn every_compression_runs() {
    if !root_or_skip("every_compression_runs") {
        return;
    }
    let _bpf = bpf_lock();
    let (Some(packer), Some(object)) = (packer(), example("execsnoop")) else {
        return;
    };
    let tmp = Tmp::new();
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    // lz4, xz, gzip, and a plain tar (`package.json`, the first member's name).
    let cases: [(&str, &[u8]); 4] = [
        ("lz4", &[0x04, 0x22, 0x4d, 0x18]),
        ("xz", b"\xfd7zXZ\x00"),
        ("gzip", b"\x1f\x8b"),
        ("none", b"package.json"),
    ];
    for (codec, magic) in cases {
        let tool = tmp.path(&format!("execsnoop-{codec}"));
        pack_with(
            &packer,
            &object,
            kernels,
            Output::Tool(&tool),
            &["--compression", codec],
        );
        let bytes = fs::read(&tool).unwrap_or_else(|e| panic!("reading {}: {e}", tool.display()));
        assert!(
            payload_starts_with(&bytes, magic),
            "--compression {codec}: the payload does not start with {magic:02x?}"
        );
        let mut running = Running::spawn(&mut hidden_btf(&tool));
        let seen = trigger_until_seen(&mut running, exec_true, |out, pid| {
            table_rows(out)
                .iter()
                .any(|r| r.get("pid") == Some(&pid.to_string()))
        });
        let finished = running.interrupt();
        assert!(
            seen.is_some(),
            "--compression {codec}: no event: {finished}"
        );
        finished.assert_success();
    }
}
