//! execsnoop (ring buffer) packed for this kernel: run with the embedded BTF
//! (native BTF hidden), with native BTF, as a table and as JSON, and through
//! `launcher run` on a `packer build --tar` package.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{
    archive, bpf_lock, example, hidden_btf, json_events, launcher, my_pid, pack, packer,
    root_or_skip, table_rows, trigger_until_seen, Finished, Kernels, Output, Running, Tmp,
};

/// Runs `/bin/true` from this process and returns its pid.
pub(crate) fn exec_true() -> u32 {
    let mut child = Command::new("/bin/true")
        .spawn()
        .unwrap_or_else(|e| panic!("running /bin/true: {e}"));
    let pid = child.id();
    let _ = child.wait();
    pid
}

/// Packs execsnoop for the host (plus the sample kernels when the archive is
/// there) into `tmp`; `None` when a prerequisite is missing (skip).
fn packed_execsnoop(tmp: &Tmp, name: &str, tar: bool) -> Option<PathBuf> {
    let (packer, object) = (packer()?, example("execsnoop")?);
    let samples = archive();
    let out = tmp.path(name);
    let kernels = Kernels {
        host: true,
        samples: samples.as_deref(),
    };
    let output = if tar {
        Output::Tar(&out)
    } else {
        Output::Tool(&out)
    };
    pack(&packer, &object, kernels, output);
    Some(out)
}

/// Starts `cmd`, execs `/bin/true` until the tool reports it as a table row
/// (or as JSON when `json`), stops the tool with SIGINT and returns the pid
/// of the reported exec with everything the tool printed.
pub(crate) fn run_until_exec_seen(cmd: &mut Command, json: bool) -> (u32, Finished) {
    run_until_seen(cmd, json, exec_true)
}

/// [`run_until_exec_seen`] with another trigger, which returns the pid of an
/// exec the tool must report.
fn run_until_seen(cmd: &mut Command, json: bool, trigger: impl FnMut() -> u32) -> (u32, Finished) {
    let mut tool = Running::spawn(cmd);
    let seen = trigger_until_seen(&mut tool, trigger, |out, pid| {
        if json {
            json_has_pid(out, *pid)
        } else {
            table_rows(out)
                .iter()
                .any(|r| r.get("pid") == Some(&pid.to_string()))
        }
    });
    let finished = tool.interrupt();
    let Some(pid) = seen else {
        panic!("no event for any /bin/true this test ran: {finished}");
    };
    finished.assert_success();
    (pid, finished)
}

fn json_has_pid(out: &str, pid: u32) -> bool {
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|v| v.get("pid").and_then(|p| p.as_u64()) == Some(u64::from(pid)))
}

/// The table row for `pid` must show `true`, run by this process from
/// `/bin/true` as root.
#[track_caller]
fn assert_table_row(finished: &Finished, pid: u32) {
    let rows = table_rows(&finished.stdout);
    let row = rows
        .iter()
        .find(|r| r.get("pid") == Some(&pid.to_string()))
        .unwrap_or_else(|| panic!("no row for pid {pid}: {finished}"));
    let cell = |name: &str| row.get(name).map(String::as_str);
    assert_eq!(cell("comm"), Some("true"), "{row:?} {finished}");
    assert_eq!(cell("ppid"), Some(my_pid().to_string().as_str()), "{row:?}");
    assert_eq!(cell("uid"), Some("0"), "{row:?}");
    assert_eq!(cell("filename"), Some("/bin/true"), "{row:?}");
}

/// The JSON event for `pid` must show `true`, run by this process; every
/// stdout line must be a JSON object.
#[track_caller]
pub(crate) fn assert_json_event(finished: &Finished, pid: u32) {
    let events = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let event = events
        .iter()
        .find(|e| e.get("pid").and_then(|p| p.as_u64()) == Some(u64::from(pid)))
        .unwrap_or_else(|| panic!("no JSON event for pid {pid}: {finished}"));
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
    assert_eq!(
        event.get("filename").and_then(|c| c.as_str()),
        Some("/bin/true"),
        "{event:?}"
    );
    assert_eq!(
        event.get("uid").and_then(|u| u.as_u64()),
        Some(0),
        "{event:?}"
    );
}

fn tool_cmd(tool: &Path, hide: bool, args: &[&str]) -> Command {
    let mut cmd = if hide {
        hidden_btf(tool)
    } else {
        Command::new(tool)
    };
    cmd.args(args);
    cmd
}

#[test]
fn embedded_btf_table() {
    if !root_or_skip("embedded_btf_table") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed_execsnoop(&tmp, "execsnoop", false) else {
        return;
    };
    let (pid, finished) = run_until_exec_seen(&mut tool_cmd(&tool, true, &[]), false);
    assert_table_row(&finished, pid);
}

#[test]
fn embedded_btf_json() {
    if !root_or_skip("embedded_btf_json") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed_execsnoop(&tmp, "execsnoop", false) else {
        return;
    };
    let (pid, finished) = run_until_exec_seen(&mut tool_cmd(&tool, true, &["--json"]), true);
    assert_json_event(&finished, pid);
}

#[test]
fn native_btf_table() {
    if !root_or_skip("native_btf_table") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed_execsnoop(&tmp, "execsnoop", false) else {
        return;
    };
    let (pid, finished) = run_until_exec_seen(&mut tool_cmd(&tool, false, &[]), false);
    assert_table_row(&finished, pid);
}

#[test]
fn launcher_runs_a_packed_tar() {
    if !root_or_skip("launcher_runs_a_packed_tar") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(launcher) = launcher() else { return };
    let Some(package) = packed_execsnoop(&tmp, "execsnoop.tar", true) else {
        return;
    };
    let mut cmd = hidden_btf(&launcher);
    cmd.arg("run").arg(&package).arg("--json");
    let (pid, finished) = run_until_exec_seen(&mut cmd, true);
    assert_json_event(&finished, pid);
}

#[test]
fn program_option_filters_in_the_kernel() {
    if !root_or_skip("program_option_filters_in_the_kernel") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed_execsnoop(&tmp, "execsnoop", false) else {
        return;
    };
    // --target-ppid sets the object's `const volatile int target_ppid`.
    let me = my_pid().to_string();
    // A grandchild's exec (not to be reported), then a child's (to be
    // reported): the ring buffer keeps their order, so once the child's event
    // is out, a wrongly reported grandchild's would be out too.
    let grandchild_then_child = || {
        let _ = Command::new("/bin/sh")
            .args(["-c", "/bin/true; exit 0"])
            .status();
        exec_true()
    };
    let (pid, finished) = run_until_seen(
        &mut tool_cmd(&tool, true, &["--json", "--target-ppid", &me]),
        true,
        grandchild_then_child,
    );
    assert_json_event(&finished, pid);
    let events = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let others: Vec<_> = events
        .iter()
        .filter(|e| e.get("ppid").and_then(|p| p.as_u64()) != Some(u64::from(my_pid())))
        .collect();
    assert!(
        others.is_empty(),
        "--target-ppid {me} must filter out other parents: {others:?}"
    );
}
