//! Issue 2: an object opened with BTF minimised by *our* `packer min-btf`
//! (not bpftool's) loads, attaches and reads the right values.

use std::process::Command;

use e2e::{
    bpf_lock, example, hidden_btf, launcher, pack, packer, root_or_skip, run, Kernels, Output, Tmp,
    HOST_BTF,
};

use crate::execsnoop::{assert_json_event, run_until_exec_seen};

#[test]
fn r2_our_minimised_btf_gives_correct_values() {
    if !root_or_skip("r2_our_minimised_btf_gives_correct_values") {
        return;
    }
    let _bpf = bpf_lock();
    let (Some(packer), Some(launcher), Some(object)) = (packer(), launcher(), example("execsnoop"))
    else {
        return;
    };
    let tmp = Tmp::new();
    let btf = tmp.path("vmlinux.min.btf");
    run(Command::new(&packer)
        .arg("min-btf")
        .arg(HOST_BTF)
        .arg(&btf)
        .arg(&object))
    .assert_success();
    // The package embeds the host's BTF too; --btf must win over it.
    let package = tmp.path("execsnoop.tar");
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    pack(&packer, &object, kernels, Output::Tar(&package));

    let mut cmd = hidden_btf(&launcher);
    cmd.arg("run")
        .arg(&package)
        .args(["--json", "--verbose", "--btf"])
        .arg(&btf);
    let (pid, finished) = run_until_exec_seen(&mut cmd, true);
    assert!(
        finished.stderr.contains(&btf.display().to_string()),
        "the tool must say it uses {}: {finished}",
        btf.display()
    );
    assert_json_event(&finished, pid);
}
