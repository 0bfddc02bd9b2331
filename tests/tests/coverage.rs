//! A tool packed without this kernel, run with the native BTF hidden, must
//! say so (exit 3), name the nearest kernel it has and tell how to cover this
//! one. The tool is packed from an archive with one other release of this
//! distribution, so these tests never depend on the sample archive.

use std::path::PathBuf;
use std::process::Command;

use e2e::{
    example, hidden_btf, host_identity, other_kernel_archive, pack, packer, root_or_skip, run,
    Kernels, Output, Tmp,
};

/// Packs execsnoop for another release of this distribution only; returns
/// the tool and that release.
fn packed_for_another_kernel(tmp: &Tmp) -> Option<(PathBuf, String)> {
    let (packer, object) = (packer()?, example("execsnoop")?);
    let (archive, release) = other_kernel_archive(&tmp.path("archive"));
    let tool = tmp.path("execsnoop-other-kernel");
    let kernels = Kernels {
        host: false,
        samples: Some(&archive),
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));
    Some((tool, release))
}

#[test]
fn kernel_not_covered_exits_3() {
    // Root is needed to hide the native BTF.
    if !root_or_skip("kernel_not_covered_exits_3") {
        return;
    }
    let tmp = Tmp::new();
    let Some((tool, other_release)) = packed_for_another_kernel(&tmp) else {
        return;
    };
    let finished = run(&mut hidden_btf(&tool));
    finished.assert_code(3);
    let identity = host_identity();
    let release = identity.rsplit('/').next().unwrap_or_default();
    let message = &finished.stderr;
    assert!(
        message.contains(release),
        "the message must name this kernel ({identity}): {finished}"
    );
    assert!(
        message.contains(&other_release),
        "the message must name the nearest kernel the tool has ({other_release}): {finished}"
    );
    assert!(
        message.contains("packer build"),
        "the message must say how to cover this kernel: {finished}"
    );
    assert!(!message.contains("panicked"), "{finished}");
}

#[test]
fn check_reports_not_covered_with_exit_3() {
    if !root_or_skip("check_reports_not_covered_with_exit_3") {
        return;
    }
    let tmp = Tmp::new();
    let Some((tool, _)) = packed_for_another_kernel(&tmp) else {
        return;
    };
    let finished = run(hidden_btf(&tool).arg("--check"));
    finished.assert_code(3);
    // Native BTF visible: covered by it, whatever the tool embeds.
    run(Command::new(&tool).arg("--check")).assert_success();
}
