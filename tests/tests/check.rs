//! `--check` needs no privileges: it reports this machine's identity and
//! which BTF would be used, and loads nothing.

use std::path::Path;

use e2e::{
    as_nobody, example, hidden_btf, host_identity, pack, packer, root_or_skip, run, Kernels, Tmp,
    NOBODY,
};

#[test]
fn check_works_as_nobody() {
    // Root is needed only to hide the native BTF for the second half.
    if !root_or_skip("check_works_as_nobody") {
        return;
    }
    let (Some(packer), Some(object)) = (packer(), example("execsnoop")) else {
        return;
    };
    let tmp = Tmp::new();
    let tool = tmp.path("execsnoop");
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    pack(&packer, &object, kernels, &[], &tool);
    let identity = host_identity();

    // Native BTF readable: that is what would be used.
    let native = run(as_nobody(&tool).arg("--check"));
    native.assert_success();
    let text = format!("{}{}", native.stdout, native.stderr);
    assert!(
        text.contains(&identity),
        "--check must print {identity}: {native}"
    );
    assert!(text.to_lowercase().contains("native"), "{native}");

    // Native BTF hidden: the embedded BTF for this kernel would be used.
    let mut cmd = hidden_btf(Path::new("setpriv"));
    cmd.args(NOBODY).arg(&tool).arg("--check");
    let embedded = run(&mut cmd);
    embedded.assert_success();
    let text = format!("{}{}", embedded.stdout, embedded.stderr);
    assert!(text.contains(&identity), "{embedded}");
    assert!(text.to_lowercase().contains("embedded"), "{embedded}");
    assert!(
        !text.contains("TIME "),
        "--check must not run the tool: {embedded}"
    );
}
