//! `launcher run` takes every package form eunomia's tools make (issue 6):
//! an ecc package.json written here from the documented format, ecc's plain
//! tar (no `./`, the object as an extra member), bpf-compatible btfgen's
//! tar.gz (`./` names, directory entries) and stdin with `--format`; a BTF
//! archive without this kernel does not stop a run on native BTF; broken
//! packages fail with exit 5 and a message saying what is wrong.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::ecli::{
    attach_then_release, btfgen_tar, ecc_tar, hist_count, other_identity, package_dir,
    package_json, writesize_meta, Gated,
};
use e2e::{
    bpf_lock, example, hidden_btf, host_identity, launcher, root_or_skip, run, Finished, Running,
    Tmp, HOST_BTF,
};
use serde_json::Value;

/// The dd run that the histogram must show: five 1000-byte writes (dd writes
/// through fd 1, hence --no-skip-stdio).
const DD_1000X5: &str = "dd if=/dev/zero of=/dev/null bs=1000 count=5 status=none";

fn object() -> Option<(PathBuf, Vec<u8>)> {
    let path = example("writesize")?;
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Some((path, bytes))
}

/// What a root test of the writesize object starts from: the launcher, the
/// object (path and bytes), the BPF lock and a temp dir.
struct RootFixture {
    launcher: PathBuf,
    path: PathBuf,
    bytes: Vec<u8>,
    tmp: Tmp,
    _bpf: std::sync::MutexGuard<'static, ()>,
}

/// `None` (with a skip notice) when not root or when the launcher or the
/// example object is missing.
fn root_fixture(test: &str) -> Option<RootFixture> {
    if !root_or_skip(test) {
        return None;
    }
    let (Some(launcher), Some((path, bytes))) = (launcher(), object()) else {
        return None;
    };
    Some(RootFixture {
        launcher,
        path,
        bytes,
        tmp: Tmp::new(),
        _bpf: bpf_lock(),
    })
}

/// Writes an ecc package.json of `object` with `meta` into `tmp`.
fn write_package_json(tmp: &Tmp, object: &[u8], meta: &Value) -> PathBuf {
    let pkg = tmp.path("package.json");
    fs::write(&pkg, package_json(object, meta))
        .unwrap_or_else(|e| panic!("writing package.json: {e}"));
    pkg
}

/// Runs `cmd` (a launcher command line without the pid filter), lets a gated
/// dd do its writes, stops the tool and returns what it printed.
#[track_caller]
fn run_with_dd(tmp: &Tmp, mut cmd: Command) -> Finished {
    let gate = Gated::spawn(&tmp.path("go"), DD_1000X5);
    cmd.args(["--pid", &gate.pid().to_string(), "--no-skip-stdio"]);
    let tool = Running::spawn(&mut cmd);
    let tool = attach_then_release(tool, gate);
    let finished = tool.interrupt();
    finished.assert_success();
    finished
}

#[track_caller]
fn assert_five_1000_byte_writes(finished: &Finished) {
    assert_eq!(
        hist_count(&finished.stdout, 512),
        Some(5),
        "expected 5 writes in 512 -> 1023: {finished}"
    );
    assert!(
        finished
            .stdout
            .contains("bytes               : count    distribution"),
        "{finished}"
    );
}

fn launcher_run(launcher: &Path, pkg: &Path) -> Command {
    let mut cmd = Command::new(launcher);
    cmd.arg("run").arg(pkg);
    cmd
}

#[test]
fn ecc_package_json_runs_with_its_sample_map_and_cmdarg_names() {
    let Some(fx) = root_fixture("ecc_package_json_runs_with_its_sample_map_and_cmdarg_names")
    else {
        return;
    };
    let pkg = write_package_json(&fx.tmp, &fx.bytes, &writesize_meta(&fx.path));
    // `--pid` is the cmdarg long name of target_pid in the fixture.
    let finished = run_with_dd(&fx.tmp, launcher_run(&fx.launcher, &pkg));
    assert_five_1000_byte_writes(&finished);
}

#[test]
fn ecc_plain_tar_uses_its_archive_when_native_btf_is_hidden() {
    let Some(fx) = root_fixture("ecc_plain_tar_uses_its_archive_when_native_btf_is_hidden") else {
        return;
    };
    let dir = fx.tmp.path("ecc");
    let btfs = [(host_identity(), PathBuf::from(HOST_BTF))];
    let json = package_json(&fx.bytes, &writesize_meta(&fx.path));
    package_dir(&dir, &json, &btfs, &[("writesize.bpf.o", &fx.bytes)]);
    let tar = fx.tmp.path("writesize.tar");
    ecc_tar(&dir, &tar, "writesize.bpf.o");

    let mut cmd = hidden_btf(&fx.launcher);
    cmd.arg("run").arg(&tar).arg("-v");
    let finished = run_with_dd(&fx.tmp, cmd);
    assert_five_1000_byte_writes(&finished);
    assert!(
        finished
            .stderr
            .contains("using BTF: embedded btfhub-archive/"),
        "the archive's BTF must be used: {finished}"
    );
}

#[test]
fn btfgen_tar_gz_without_this_kernel_runs_on_native_btf() {
    let Some(fx) = root_fixture("btfgen_tar_gz_without_this_kernel_runs_on_native_btf") else {
        return;
    };
    let dir = fx.tmp.path("btfgen");
    // ecli fails here ("BTF file not found for current system") although the
    // kernel has its own BTF.
    let btfs = [(other_identity(), PathBuf::from(HOST_BTF))];
    package_dir(
        &dir,
        &package_json(&fx.bytes, &writesize_meta(&fx.path)),
        &btfs,
        &[],
    );
    let tar = fx.tmp.path("output.tar");
    btfgen_tar(&dir, &tar);
    let listing = run(Command::new("tar").arg("-tzf").arg(&tar));
    assert!(
        listing.stdout.lines().any(|l| l == "./package.json"),
        "{listing}"
    );

    let mut cmd = launcher_run(&fx.launcher, &tar);
    cmd.arg("--json");
    let finished = run_with_dd(&fx.tmp, cmd);
    let last: Value = finished
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON line: {finished}"));
    assert_eq!(last["key"], 0, "{finished}");
    assert_eq!(last["value"]["slots"][9], 5, "{finished}");
    assert_eq!(last["value"]["calls"], 5, "{finished}");
    assert_eq!(last["value"]["total"], 5000, "{finished}");
}

#[test]
fn stdin_package_with_format() {
    let Some(fx) = root_fixture("stdin_package_with_format") else {
        return;
    };
    let pkg = write_package_json(&fx.tmp, &fx.bytes, &writesize_meta(&fx.path));
    // The options run_with_dd adds go after the package: a wrapper script
    // passes them on and feeds the package on stdin.
    let script = fx.tmp.path("from-stdin.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' run - --format json \"$@\" < '{}'\n",
            fx.launcher.display(),
            pkg.display()
        ),
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", script.display()));
    let finished = run_with_dd(&fx.tmp, {
        let mut c = Command::new("sh");
        c.arg(&script);
        c
    });
    assert_five_1000_byte_writes(&finished);

    // --format tar with JSON on stdin is refused.
    let refused = run(Command::new("sh").args([
        "-c",
        &format!(
            "exec '{}' run - --format tar < '{}'",
            fx.launcher.display(),
            pkg.display()
        ),
    ]));
    refused.assert_code(5);
    assert!(
        refused
            .stderr
            .contains("--format tar, but the input is JSON"),
        "{refused}"
    );
}

/// A package.json variant and the error it must give.
fn broken(tmp: &Tmp, name: &str, json: &str) -> Finished {
    let Some(launcher) = launcher() else {
        return run(&mut Command::new("true"));
    };
    let pkg = tmp.path(name);
    fs::write(&pkg, json).unwrap_or_else(|e| panic!("writing {name}: {e}"));
    run(Command::new(launcher).arg("run").arg(&pkg))
}

#[test]
fn broken_packages_exit_5_with_a_reason() {
    let (Some(_), Some((path, bytes))) = (launcher(), object()) else {
        return;
    };
    let tmp = Tmp::new();
    let meta = writesize_meta(&path);
    let good: Value = serde_json::from_str(&package_json(&bytes, &meta))
        .unwrap_or_else(|e| panic!("fixture: {e}"));

    let mut bad_base64 = good.clone();
    bad_base64["bpf_object"] = Value::from("not*base64!");
    let mut bad_zlib = good.clone();
    bad_zlib["bpf_object"] = Value::from(e2e::ecli::base64(b"this is not a zlib stream"));
    let mut bad_size = good.clone();
    bad_size["bpf_object_size"] = Value::from(bytes.len() + 1);
    let mut no_object = good.clone();
    if let Some(o) = no_object.as_object_mut() {
        o.remove("bpf_object");
    }
    let mut no_skel = good.clone();
    if let Some(m) = no_skel["meta"].as_object_mut() {
        m.remove("bpf_skel");
    }
    let mut unknown_export = good.clone();
    unknown_export["meta"]["export_types"][0]["name"] = Value::from("no_such_struct");
    unknown_export["meta"]["export_types"][0]["type_id"] = Value::from(1);
    let mut bad_sample = good.clone();
    bad_sample["meta"]["bpf_skel"]["maps"][0]["sample"]["type"] = Value::from("pie_chart");

    let cases: [(&str, Value, &str); 6] = [
        ("base64.json", bad_base64, "base64"),
        ("zlib.json", bad_zlib, "zlib"),
        ("size.json", bad_size, "bpf_object_size"),
        (
            "no-object.json",
            no_object,
            "package.json has no bpf_object",
        ),
        ("no-skel.json", no_skel, "missing field `bpf_skel`"),
        (
            "sample.json",
            bad_sample,
            "unknown sample type \"pie_chart\"",
        ),
    ];
    for (name, json, reason) in cases {
        let finished = broken(&tmp, name, &json.to_string());
        finished.assert_code(5);
        assert!(
            finished.stderr.starts_with("error: ") && finished.stderr.contains(reason),
            "{name}: expected {reason:?}: {finished}"
        );
        assert!(!finished.stderr.contains("panicked"), "{finished}");
    }

    // The event struct is looked up once the programs are attached (the
    // output is set up after attaching): as root the tool attaches, then
    // detaches and fails with the reason.
    if e2e::privilege::is_root() {
        let _bpf = bpf_lock();
        let finished = broken(&tmp, "export.json", &unknown_export.to_string());
        finished.assert_code(5);
        let after = finished
            .stderr
            .split_once("program(s) attached")
            .and_then(|(_, after)| after.split_once('\n'))
            .map_or("", |(_, rest)| rest);
        assert!(
            after.starts_with("error: ")
                && after.contains("export_types[0] is struct no_such_struct"),
            "export.json: {finished}"
        );
        assert!(!finished.stderr.contains("panicked"), "{finished}");
    }

    let not_a_package = broken(&tmp, "garbage.bin", "\u{1}\u{2}garbage");
    not_a_package.assert_code(5);
    assert!(
        not_a_package.stderr.contains("garbage.bin"),
        "{not_a_package}"
    );
}

#[test]
fn linear_and_key_value_sample_types() {
    if !root_or_skip("linear_and_key_value_sample_types") {
        return;
    }
    let (Some(launcher), Some((path, bytes))) = (launcher(), object()) else {
        return;
    };
    let _bpf = bpf_lock();
    for kind in ["linear_hist", "default_kv"] {
        let tmp = Tmp::new();
        let mut meta = writesize_meta(&path);
        meta["bpf_skel"]["maps"][0]["sample"]["type"] = Value::from(kind);
        let pkg = write_package_json(&tmp, &bytes, &meta);
        let finished = run_with_dd(&tmp, launcher_run(&launcher, &pkg));
        if kind == "linear_hist" {
            // bcc's print_linear_hist: only non-empty slots, base 0, step 1.
            assert!(
                finished
                    .stdout
                    .contains("     bytes         : count     distribution"),
                "{finished}"
            );
            let row = format!("        {:<10} : {:<8} |{}|", 9, 5, "*".repeat(40));
            assert!(
                finished.stdout.lines().any(|l| l == row),
                "{row:?}: {finished}"
            );
        } else {
            let rows = e2e::table_rows(&finished.stdout);
            let row = rows
                .iter()
                .rev()
                .find(|r| r.contains_key("calls"))
                .unwrap_or_else(|| panic!("no key/value row: {finished}"));
            assert_eq!(row["key"], "0", "{finished}");
            assert_eq!(row["total"], "5000", "{finished}");
            assert_eq!(row["calls"], "5", "{finished}");
        }
    }
}

#[test]
fn run_pkg_help_lists_the_package_options() {
    let (Some(launcher), Some((path, bytes))) = (launcher(), object()) else {
        return;
    };
    let tmp = Tmp::new();
    let pkg = write_package_json(&tmp, &bytes, &writesize_meta(&path));
    let help = run(launcher_run(&launcher, &pkg).arg("--help"));
    help.assert_success();
    for expected in [
        "write(2) sizes (ecc fixture)",
        "-p, --pid <N>",
        "Process to trace",
        "--target-comm <STR>",
        "--format <FORMAT>",
    ] {
        assert!(help.stdout.contains(expected), "{expected:?}: {help}");
    }
}

#[test]
fn sample_errors_and_events_without_export_types() {
    let Some(fx) = root_fixture("sample_errors_and_events_without_export_types") else {
        return;
    };
    let pkg = write_package_json(&fx.tmp, &fx.bytes, &writesize_meta(&fx.path));
    for (map, message) in [
        ("events", "a ring/perf buffer"),
        ("no_such_map", "no such map"),
    ] {
        let finished = run(launcher_run(&fx.launcher, &pkg).args(["--sample", map]));
        finished.assert_code(2);
        assert!(finished.stderr.contains(message), "{map}: {finished}");
    }

    // ecli fails on a ring buffer without export_types; the launcher decodes
    // the object's `struct event`.
    let mut meta = writesize_meta(&fx.path);
    meta["export_types"] = Value::Array(Vec::new());
    write_package_json(&fx.tmp, &fx.bytes, &meta);
    let mut cmd = launcher_run(&fx.launcher, &pkg);
    cmd.args(["--emit-events", "--json"]);
    let finished = run_with_dd(&fx.tmp, cmd);
    let events: Vec<Value> = finished
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("comm").is_some())
        .collect();
    assert_eq!(events.len(), 5, "{finished}");
    assert_eq!(events[0]["size"], 1000, "{finished}");
    assert_eq!(events[0]["comm"], "dd", "{finished}");
}

#[test]
fn clear_map_empties_the_map_after_each_print() {
    let Some(fx) = root_fixture("clear_map_empties_the_map_after_each_print") else {
        return;
    };
    let mut meta = writesize_meta(&fx.path);
    meta["bpf_skel"]["maps"][0]["sample"] = serde_json::json!({"interval": 100, "type": "log2_hist", "unit": "bytes", "clear_map": true});
    let pkg = write_package_json(&fx.tmp, &fx.bytes, &meta);
    let gate = Gated::spawn(&fx.tmp.path("go"), DD_1000X5);
    let tool = Running::spawn(launcher_run(&fx.launcher, &pkg).args([
        "--pid",
        &gate.pid().to_string(),
        "--no-skip-stdio",
    ]));
    let tool = attach_then_release(tool, gate);
    // Each print shows the writes since the previous one: the counts add up
    // to five (without clearing they would repeat), and a later print is
    // empty again.
    let calls = |out: &str| -> Vec<u64> {
        out.lines()
            .filter_map(|l| l.strip_prefix("calls = ")?.trim().parse().ok())
            .collect()
    };
    let cleared = |out: &str| {
        let c = calls(out);
        c.iter().sum::<u64>() == 5 && c.last() == Some(&0)
    };
    let start = std::time::Instant::now();
    while !cleared(&tool.stdout()) && start.elapsed() < e2e::process::SEEN_GUARD {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let finished = tool.interrupt();
    finished.assert_success();
    assert!(
        cleared(&finished.stdout),
        "{:?}: {finished}",
        calls(&finished.stdout)
    );
}
