//! Issue 2: an object opened with BTF minimised by *our* `packer min-btf`
//! (not bpftool's) loads, attaches and reads the right values.

use std::process::Command;

use e2e::{
    bpf_lock, example, hidden_btf, json_events, launcher, my_pid, pack, packer, root_or_skip, run,
    trigger_until_seen, Kernels, Output, Running, Tmp,
};

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
        .arg("/sys/kernel/btf/vmlinux")
        .arg(&btf)
        .arg(&object))
    .assert_success();
    let package = tmp.path("execsnoop.tar");
    // The package embeds the host's BTF too; --btf must win over it.
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
    let mut running = Running::spawn(&mut cmd);
    let seen = trigger_until_seen(
        &mut running,
        || {
            let mut child = Command::new("/bin/true")
                .spawn()
                .unwrap_or_else(|e| panic!("running /bin/true: {e}"));
            let pid = child.id();
            let _ = child.wait();
            pid
        },
        |out, pid| out.contains(&format!("\"pid\":{pid},")),
    );
    let finished = running.interrupt();
    let Some(pid) = seen else {
        panic!("no event for any /bin/true this test ran: {finished}");
    };
    finished.assert_success();
    assert!(
        finished.stderr.contains(&btf.display().to_string()),
        "the tool must say it uses {}: {finished}",
        btf.display()
    );
    let events = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let event = events
        .iter()
        .find(|e| e.get("pid").and_then(|p| p.as_u64()) == Some(u64::from(pid)))
        .unwrap_or_else(|| panic!("no event for pid {pid}: {finished}"));
    assert_eq!(
        event.get("ppid").and_then(|p| p.as_u64()),
        Some(u64::from(my_pid())),
        "{event:?}"
    );
    assert_eq!(
        event.get("comm").and_then(|c| c.as_str()),
        Some("true"),
        "{event:?}"
    );
}
