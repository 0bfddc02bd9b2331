//! A packed tool's globals are its options (issue 6): `examples/writesize`
//! packed with its source's doc comments; every option type (int, u64,
//! char[], enum, bools both ways) changes what the BPF program counts; its
//! events come out as a table and as JSON; bad values are usage errors.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use e2e::ecli::{attach_then_release, hist_count, Gated};
use e2e::paths::workspace_root;
use e2e::{
    bpf_lock, example, json_events, packer, root_or_skip, run, table_rows, Finished, Running, Tmp,
};
use serde_json::Value;

/// `packer build writesize.bpf.o --source examples/writesize.bpf.c --kernels host -o TOOL`.
fn packed(tmp: &Tmp) -> Option<PathBuf> {
    let (packer, object) = (packer()?, example("writesize")?);
    let tool = tmp.path("writesize");
    run(Command::new(packer)
        .arg("build")
        .arg(object)
        .arg("--source")
        .arg(workspace_root().join("examples/writesize.bpf.c"))
        .args(["--kernels", "host", "-o"])
        .arg(&tool))
    .assert_success();
    Some(tool)
}

/// Runs the tool with `args`, releases a gated `script`, stops the tool.
#[track_caller]
fn run_tool(tmp: &Tmp, tool: &PathBuf, args: &[String], script: &str) -> Finished {
    let gate = Gated::spawn(&tmp.path("go"), script);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{pid}", &gate.pid().to_string()))
        .collect();
    let running = Running::spawn(Command::new(tool).args(&args));
    let running = attach_then_release(running, gate);
    let finished = running.interrupt();
    finished.assert_success();
    finished
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn help_lists_the_globals_with_their_doc_and_defaults() {
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp) else { return };
    let help = run(Command::new(&tool).arg("--help"));
    help.assert_success();
    for expected in [
        "Log2 histogram of write(2) sizes",
        "--target-pid <N>     Only count writes of this process (0 = every process) [.rodata pid_t;",
        "--min-bytes <N>",
        "--target-comm <STR>",
        "at most 15 bytes",
        "--unit <NAME>",
        "one of UNIT_BYTES,",
        "--no-skip-stdio",
        "--emit-events",
        "--counted <N>",
    ] {
        assert!(help.stdout.contains(expected), "{expected:?} missing: {help}");
    }
    // The launcher's own options keep their names.
    assert!(help.stdout.contains("-j, --json"), "{help}");
}

#[test]
fn bad_option_values_are_usage_errors() {
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp) else { return };
    let cases: [(&[&str], &str); 5] = [
        (
            &["--target-pid", "99999999999"],
            "99999999999 is out of range for a 32-bit signed integer: -2147483648..=2147483647",
        ),
        (
            &["--min-bytes", "-1"],
            "out of range for a 64-bit unsigned integer",
        ),
        (&["--min-bytes", "lots"], "'lots' is not an integer"),
        (
            &["--target-comm", "a-name-longer-than-15"],
            "holds at most 15 bytes",
        ),
        (
            &["--unit", "MIB"],
            "'MIB' is not a value of enum size_unit; use one of UNIT_BYTES, UNIT_KIB",
        ),
    ];
    for (args, message) in cases {
        let finished = run(Command::new(&tool).args(args));
        finished.assert_code(2);
        assert!(finished.stderr.contains(message), "{args:?}: {finished}");
    }
    let flag_with_value = run(Command::new(&tool).args(["--emit-events=yes"]));
    flag_with_value.assert_code(2);
}

#[test]
fn pid_size_and_bool_options_filter_and_events_are_printed() {
    if !root_or_skip("pid_size_and_bool_options_filter_and_events_are_printed") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp) else { return };
    // 5 writes of 1000 bytes and 3 of 10 bytes by one process; --min-bytes
    // drops the small ones.
    let script = "sh -c 'dd if=/dev/zero of=/dev/null bs=10 count=3 status=none; \
                  exec dd if=/dev/zero of=/dev/null bs=1000 count=5 status=none'";
    // The first dd is a child of the gated shell; filter by comm, not pid.
    let finished = run_tool(
        &tmp,
        &tool,
        &strings(&[
            "--target-comm",
            "dd",
            "--min-bytes",
            "100",
            "--no-skip-stdio",
            "--emit-events",
        ]),
        script,
    );
    assert_eq!(hist_count(&finished.stdout, 512), Some(5), "{finished}");
    assert_eq!(hist_count(&finished.stdout, 8), Some(0), "{finished}");
    let rows: Vec<_> = table_rows(&finished.stdout)
        .into_iter()
        .filter(|r| r.get("comm").map(String::as_str) == Some("dd"))
        .collect();
    assert!(rows.len() >= 5, "five events expected: {finished}");
    for row in &rows {
        assert_eq!(row["size"], "1000", "{row:?}");
        assert_eq!(row["unit"], "UNIT_BYTES(0)", "{row:?}");
        assert_eq!(row["stdio"], "true", "{row:?}");
        assert_eq!(row["fd"], "1", "{row:?}");
    }

    // skip_stdio on by default: dd's writes go to fd 1 and are not counted.
    let finished = run_tool(
        &Tmp::new(),
        &tool,
        &strings(&["--target-pid", "{pid}"]),
        "dd if=/dev/zero of=/dev/null bs=1000 count=5 status=none",
    );
    assert_eq!(hist_count(&finished.stdout, 512), None, "{finished}");
    assert!(finished.stdout.contains("calls = 0"), "{finished}");
}

#[test]
fn comm_and_enum_options_with_json_output() {
    if !root_or_skip("comm_and_enum_options_with_json_output") {
        return;
    }
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(tool) = packed(&tmp) else { return };
    // A dd under a name of its own, so the comm filter matches only it.
    let dd = tmp.path("bpfc-wsz");
    fs::copy("/bin/dd", &dd).unwrap_or_else(|e| panic!("copying /bin/dd: {e}"));
    fs::set_permissions(&dd, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    let finished = run_tool(
        &tmp,
        &tool,
        &strings(&[
            "--target-comm",
            "bpfc-wsz",
            "--unit",
            "UNIT_KIB",
            "--no-skip-stdio",
            "--emit-events",
            "--json",
        ]),
        &format!(
            "'{}' if=/dev/zero of=/dev/null bs=4096 count=3 status=none",
            dd.display()
        ),
    );
    let lines = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    let events: Vec<_> = lines.iter().filter(|e| e.contains_key("comm")).collect();
    assert_eq!(events.len(), 3, "{finished}");
    for e in &events {
        assert_eq!(e["comm"], "bpfc-wsz");
        assert_eq!(e["size"], 4, "4096 bytes in KiB: {e:?}");
        assert_eq!(e["unit"], "UNIT_KIB(1)");
        assert_eq!(e["stdio"], Value::Bool(true));
    }
    let hist = lines
        .iter()
        .rev()
        .find(|e| e.contains_key("key"))
        .unwrap_or_else(|| panic!("no histogram line: {finished}"));
    assert_eq!(
        hist["value"]["slots"][2], 3,
        "4 KiB is in slot 2 (4 -> 7): {finished}"
    );
    assert_eq!(hist["value"]["calls"], 3);
    assert_eq!(hist["value"]["total"], 12);
}
