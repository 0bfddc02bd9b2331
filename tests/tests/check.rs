//! `--check` needs no privileges: it reports this machine's identity and
//! which BTF would be used, and loads nothing.

use std::path::{Path, PathBuf};

use e2e::{
    as_nobody, example, hidden_btf, host_identity, pack, packer, root_or_skip, run, Kernels,
    Output, Tmp, NOBODY,
};

/// As root: execsnoop packed with this kernel's BTF into a temp dir (kept
/// alive by the returned `Tmp`); `None` (with a notice) when not root or
/// when packer or the example is missing.
fn execsnoop_for_this_kernel_as_root(test: &str) -> Option<(Tmp, PathBuf)> {
    if !root_or_skip(test) {
        return None;
    }
    let (Some(packer), Some(object)) = (packer(), example("execsnoop")) else {
        return None;
    };
    let tmp = Tmp::new();
    let tool = tmp.path("execsnoop");
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));
    Some((tmp, tool))
}

#[test]
fn check_works_as_nobody() {
    // Root is needed only to hide the native BTF for the second half.
    let Some((_tmp, tool)) = execsnoop_for_this_kernel_as_root("check_works_as_nobody") else {
        return;
    };
    let identity = host_identity();

    // Native BTF readable: that is what would be used.
    let native = run(as_nobody(&tool).arg("--check"));
    native.assert_success();
    let text = format!("{}{}", native.stdout, native.stderr);
    assert_names_identity(&text, &identity);
    assert_btf_choice(&text, "native");

    // Native BTF hidden: the embedded BTF for this kernel would be used.
    let mut cmd = hidden_btf(Path::new("setpriv"));
    cmd.args(NOBODY).arg(&tool).arg("--check");
    let embedded = run(&mut cmd);
    embedded.assert_success();
    let text = format!("{}{}", embedded.stdout, embedded.stderr);
    assert_names_identity(&text, &identity);
    assert_btf_choice(&text, "embedded");
    assert!(
        !text.contains("TIME "),
        "--check must not run the tool: {embedded}"
    );
}

/// Every part of `ID/VERSION_ID/ARCH/RELEASE` must appear in the report.
#[track_caller]
fn assert_names_identity(report: &str, identity: &str) {
    for part in identity.split('/').filter(|p| !p.is_empty()) {
        assert!(
            report.contains(part),
            "--check must name this system ({identity}); `{part}` missing:\n{report}"
        );
    }
}

/// The report's "BTF to use" line (the whole report if it has none) must say
/// `choice`.
#[track_caller]
fn assert_btf_choice(report: &str, choice: &str) {
    let line = report
        .lines()
        .find(|l| l.to_lowercase().contains("btf to use"))
        .unwrap_or(report);
    assert!(
        line.to_lowercase().contains(choice),
        "--check must say the {choice} BTF would be used:\n{report}"
    );
}

#[test]
fn running_as_nobody_exits_4() {
    // Root is needed to switch to nobody.
    let Some((_tmp, tool)) = execsnoop_for_this_kernel_as_root("running_as_nobody_exits_4") else {
        return;
    };
    let finished = run(&mut as_nobody(&tool));
    finished.assert_code(4);
    assert!(
        finished.stderr.contains("root") || finished.stderr.contains("CAP_BPF"),
        "the message must say what privilege is missing: {finished}"
    );
}
