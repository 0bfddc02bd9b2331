//! A tool packed without this kernel, run with the native BTF hidden, must
//! say so (exit 3) and tell how to cover the kernel.

use std::process::Command;

use e2e::{
    archive, example, hidden_btf, host_identity, pack, packer, root_or_skip, run, Kernels, Output,
    Tmp,
};

#[test]
fn kernel_not_covered_exits_3() {
    if !root_or_skip("kernel_not_covered_exits_3") {
        return;
    }
    let (Some(packer), Some(object)) = (packer(), example("execsnoop")) else {
        return;
    };
    let Some(samples) = archive() else {
        eprintln!("skipped kernel_not_covered_exits_3: needs kernels other than the host's");
        return;
    };
    let tmp = Tmp::new();
    let tool = tmp.path("execsnoop-samples-only");
    let kernels = Kernels {
        host: false,
        samples: Some(&samples),
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));

    let finished = run(&mut hidden_btf(&tool));
    finished.assert_code(3);
    let identity = host_identity();
    let release = identity.rsplit('/').next().unwrap_or_default();
    assert!(
        finished.stderr.contains(release),
        "the message must name this kernel ({identity}): {finished}"
    );
    assert!(
        finished.stderr.contains("packer build"),
        "the message must say how to cover this kernel: {finished}"
    );
    assert!(!finished.stderr.contains("panicked"), "{finished}");
}

#[test]
fn not_covered_is_reported_by_check_too() {
    let (Some(packer), Some(object)) = (packer(), example("execsnoop")) else {
        return;
    };
    let Some(samples) = archive() else { return };
    if !root_or_skip("not_covered_is_reported_by_check_too") {
        return;
    }
    let tmp = Tmp::new();
    let tool = tmp.path("execsnoop-samples-only");
    let kernels = Kernels {
        host: false,
        samples: Some(&samples),
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));
    let finished = run(hidden_btf(&tool).arg("--check"));
    finished.assert_code(3);
    // Native BTF visible: covered by it, whatever the tool embeds.
    run(Command::new(&tool).arg("--check")).assert_success();
}
