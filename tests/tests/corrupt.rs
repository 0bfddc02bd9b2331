//! Damaged tools fail cleanly: exit code 5 and a message, never a panic.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use e2e::{example, pack, packer, run, Finished, Kernels, Output, Tmp};

const TRAILER_LEN: usize = 64;

/// Packs execsnoop for the host kernel and returns its bytes.
fn packed_bytes(tmp: &Tmp) -> Option<Vec<u8>> {
    let (packer, object) = (packer()?, example("execsnoop")?);
    let tool = tmp.path("execsnoop");
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));
    Some(fs::read(&tool).unwrap_or_else(|e| panic!("reading {}: {e}", tool.display())))
}

/// `(payload_offset, payload_len)` from the trailer (docs/FORMAT.md §1.1).
fn payload_range(tool: &[u8]) -> (usize, usize) {
    let trailer = tool
        .len()
        .checked_sub(TRAILER_LEN)
        .and_then(|start| tool.get(start..))
        .unwrap_or_else(|| panic!("tool shorter than a trailer"));
    assert_eq!(
        trailer.get(56..64),
        Some(&b"BPFCOMPT"[..]),
        "no trailer magic"
    );
    let u64_at = |at: usize| {
        let bytes: [u8; 8] = trailer
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_else(|| panic!("trailer field at {at}"));
        usize::try_from(u64::from_le_bytes(bytes)).unwrap_or(usize::MAX)
    };
    (u64_at(32), u64_at(40))
}

fn write_tool(tmp: &Tmp, name: &str, bytes: &[u8]) -> PathBuf {
    let path = tmp.path(name);
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    path
}

#[track_caller]
fn assert_payload_error(tool: &Path) -> Finished {
    // --check reads the payload but needs no root and loads nothing.
    let finished = run(std::process::Command::new(tool).arg("--check"));
    finished.assert_code(5);
    assert!(!finished.stderr.trim().is_empty(), "no message: {finished}");
    assert!(!finished.stderr.contains("panicked"), "{finished}");
    finished
}

#[test]
fn flipped_payload_byte_exits_5() {
    let tmp = Tmp::new();
    let Some(mut bytes) = packed_bytes(&tmp) else {
        return;
    };
    let (offset, len) = payload_range(&bytes);
    let target = offset + len / 2;
    let byte = bytes
        .get_mut(target)
        .unwrap_or_else(|| panic!("payload byte {target} out of range"));
    *byte ^= 0x40;
    let tool = write_tool(&tmp, "flipped", &bytes);
    let finished = assert_payload_error(&tool);
    assert!(
        finished.stderr.to_lowercase().contains("corrupt"),
        "the message must say the payload is corrupt: {finished}"
    );
}

#[test]
fn payload_with_a_hole_exits_5() {
    let tmp = Tmp::new();
    let Some(bytes) = packed_bytes(&tmp) else {
        return;
    };
    let (offset, len) = payload_range(&bytes);
    // Drop the middle of the payload; the trailer survives, the sizes disagree.
    let (start, end) = (offset + len / 3, offset + 2 * len / 3);
    let mut holed = bytes.get(..start).unwrap_or_default().to_vec();
    holed.extend_from_slice(bytes.get(end..).unwrap_or_default());
    let tool = write_tool(&tmp, "holed", &holed);
    assert_payload_error(&tool);
}

#[test]
fn truncated_tool_exits_5() {
    let tmp = Tmp::new();
    let Some(bytes) = packed_bytes(&tmp) else {
        return;
    };
    let (offset, len) = payload_range(&bytes);
    // An interrupted download: the end of the payload and the trailer are gone.
    let cut = bytes.get(..offset + len / 2).unwrap_or_default();
    let tool = write_tool(&tmp, "truncated", cut);
    assert_payload_error(&tool);
}
