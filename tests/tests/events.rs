//! opensnoop (ring buffer, two tracepoints and a hash map) and exitsnoop
//! (perf event array) report the actions this test triggers, with the native
//! BTF hidden.

use std::path::PathBuf;
use std::process::Command;

use e2e::{
    bpf_lock, example, hidden_btf, json_events, my_pid, pack, packer, root_or_skip,
    trigger_until_seen, Kernels, Output, Running, Tmp,
};
use serde_json::{Map, Value};

/// Packs example `name` for the host kernel into `tmp`.
fn packed(tmp: &Tmp, name: &str) -> Option<PathBuf> {
    let (packer, object) = (packer()?, example(name)?);
    let tool = tmp.path(name);
    let kernels = Kernels {
        host: true,
        samples: None,
    };
    pack(&packer, &object, kernels, Output::Tool(&tool));
    Some(tool)
}

fn events(out: &str) -> Vec<Map<String, Value>> {
    // Lines are checked strictly after the run; while polling, skip partial ones.
    out.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn int(event: &Map<String, Value>, key: &str) -> Option<i64> {
    event.get(key).and_then(Value::as_i64)
}

fn text<'a>(event: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    event.get(key).and_then(Value::as_str)
}

#[test]
fn opensnoop_reports_an_open() {
    if !root_or_skip("opensnoop_reports_an_open") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp, "opensnoop") else {
        return;
    };
    // Only this process's opens: --target-pid sets the object's `target_pid`.
    let mut running = Running::spawn(
        hidden_btf(&tool)
            .arg("--json")
            .arg("--target-pid")
            .arg(my_pid().to_string()),
    );
    let mut n = 0;
    // Opening a file that does not exist: openat returns -ENOENT.
    let seen = trigger_until_seen(
        &mut running,
        || {
            n += 1;
            let path = tmp.path(&format!("opensnoop-marker-{n}"));
            let _ = std::fs::File::open(&path);
            path.to_string_lossy().into_owned()
        },
        |out, path| events(out).iter().any(|e| text(e, "fname") == Some(path)),
    );
    let finished = running.interrupt();
    let Some(path) = seen else {
        panic!("no event for any file this test opened: {finished}");
    };
    finished.assert_success();
    let all = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let event = all
        .iter()
        .find(|e| text(e, "fname") == Some(path.as_str()))
        .unwrap_or_else(|| panic!("event for {path} lost: {finished}"));
    assert_eq!(int(event, "ret"), Some(-2), "ENOENT expected: {event:?}");
    let others: Vec<_> = all
        .iter()
        .filter(|e| int(e, "pid") != Some(i64::from(my_pid())))
        .collect();
    assert!(
        others.is_empty(),
        "--target-pid {} must filter out other processes: {others:?}",
        my_pid()
    );
    assert_eq!(int(event, "uid"), Some(0), "{event:?}");
}

/// Runs `sh -c "exit 7"` and returns its pid.
fn run_exit_7() -> u32 {
    let mut child = Command::new("/bin/sh")
        .args(["-c", "exit 7"])
        .spawn()
        .unwrap_or_else(|e| panic!("running /bin/sh: {e}"));
    let pid = child.id();
    let _ = child.wait();
    pid
}

/// Whether exitsnoop's JSON output has an event for `pid`.
fn exit_event_seen(out: &str, pid: &u32) -> bool {
    events(out)
        .iter()
        .any(|e| int(e, "pid") == Some(i64::from(*pid)))
}

#[test]
fn exitsnoop_reports_an_exit_through_a_perf_buffer() {
    if !root_or_skip("exitsnoop_reports_an_exit_through_a_perf_buffer") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp, "exitsnoop") else {
        return;
    };
    let mut running = Running::spawn(hidden_btf(&tool).arg("--json"));
    let seen = trigger_until_seen(&mut running, run_exit_7, exit_event_seen);
    let finished = running.interrupt();
    let Some(pid) = seen else {
        panic!("no event for any process this test ran: {finished}");
    };
    finished.assert_success();
    let all = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let event = all
        .iter()
        .find(|e| int(e, "pid") == Some(i64::from(pid)))
        .unwrap_or_else(|| panic!("event for pid {pid} lost: {finished}"));
    assert_eq!(int(event, "ppid"), Some(i64::from(my_pid())), "{event:?}");
    assert_eq!(int(event, "exit_code"), Some(7), "{event:?}");
    assert_eq!(int(event, "sig"), Some(0), "{event:?}");
    assert_eq!(text(event, "comm"), Some("sh"), "{event:?}");
}

/// Unmounts tracefs (and debugfs, which can hold it) in a private mount
/// namespace, fails with exit 99 if tracepoint ids are still reachable, hides
/// the native BTF, then runs `"$0" "$@"`.
const NO_TRACEFS_HIDDEN_BTF: &str = "umount /sys/kernel/tracing 2>/dev/null; \
     umount /sys/kernel/debug 2>/dev/null; \
     if [ -d /sys/kernel/tracing/events ] || [ -d /sys/kernel/debug/tracing/events ]; then \
       echo 'precondition failed: tracefs is still mounted' >&2; exit 99; fi; \
     mount -t tmpfs none /sys/kernel/btf && exec \"$0\" \"$@\"";

#[test]
fn a_tracepoint_tool_mounts_a_missing_tracefs() {
    if !root_or_skip("a_tracepoint_tool_mounts_a_missing_tracefs") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp, "exitsnoop") else {
        return;
    };
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", NO_TRACEFS_HIDDEN_BTF])
        .arg(&tool)
        .args(["--json", "-v"]);
    let mut running = Running::spawn(&mut cmd);
    let seen = trigger_until_seen(&mut running, run_exit_7, exit_event_seen);
    let finished = running.interrupt();
    assert!(
        seen.is_some(),
        "no exit event without a mounted tracefs: {finished}"
    );
    finished.assert_success();
    assert!(
        finished
            .stderr
            .contains("tracefs was not mounted; mounted it at /sys/kernel/tracing"),
        "the launcher should say it mounted tracefs: {finished}"
    );
}
