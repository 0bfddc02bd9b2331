//! Every option type and every event member type, through the kernel
//! (issue 6): `ecli_types.bpf.c` copies its globals (ints of every width and
//! sign, a bool, a `char[]`, an enum, a `.data` int) into an event that also
//! has bitfields, a union, a nested struct, an array and a pointer; the test
//! sets the globals from the command line and checks the decoded event.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::ecli::{attach_then_release, Gated};
use e2e::{bpf_lock, in_ci, json_events, launcher, packer, root_or_skip, run, Running, Tmp};
use serde_json::{json, Map, Value};

const SOURCE: &str = include_str!("ecli_types.bpf.c");

/// Compiles the test program and packs it with `packer build --tar`; `None`
/// (with a notice) when clang is missing outside CI.
fn package(tmp: &Tmp) -> Option<PathBuf> {
    let packer = packer()?;
    let src = tmp.path("types.bpf.c");
    fs::write(&src, SOURCE).unwrap_or_else(|e| panic!("writing {}: {e}", src.display()));
    let obj = tmp.path("types.bpf.o");
    let arch_include = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let clang = Command::new("clang")
        .args(["-g", "-O2", "-target", "bpf", "-I", &arch_include, "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output();
    match clang {
        Ok(out) if out.status.success() => {}
        other => {
            assert!(!in_ci(), "clang failed: {other:?}");
            eprintln!("skipped: cannot compile {}: {other:?}", src.display());
            return None;
        }
    }
    let pkg = tmp.path("types.tar");
    run(Command::new(packer)
        .arg("build")
        .arg(&obj)
        .args(["--kernels", "host", "--tar"])
        .arg(&pkg))
    .assert_success();
    Some(pkg)
}

/// The event the program sends for one write of a gated `dd`, with `args`.
#[track_caller]
fn event(launcher: &Path, pkg: &Path, args: &[&str]) -> Map<String, Value> {
    let tmp = Tmp::new();
    let gate = Gated::spawn(
        &tmp.path("go"),
        "dd if=/dev/zero of=/dev/null bs=1 count=1 status=none",
    );
    let pid = gate.pid().to_string();
    let tool = Running::spawn(
        Command::new(launcher)
            .arg("run")
            .arg(pkg)
            .args(["--json", "--target-pid", &pid])
            .args(args),
    );
    let tool = attach_then_release(tool, gate);
    let finished = tool.interrupt();
    finished.assert_success();
    let events = json_events(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {finished}"));
    assert_eq!(events.len(), 1, "one write, one event: {finished}");
    events.into_iter().next().unwrap_or_default()
}

/// Members that do not depend on the options.
fn fixed_members() -> Value {
    json!({
        "lo": 5, "hi": 17,
        "u": {"as_int": 0x0403_0201, "bytes": [1, 2, 3, 4]},
        "pt": {"x": -7, "y": 8},
        "arr": [1, 2, 65535],
        "ptr": 0xffff_8880_1234_5678_u64
    })
}

fn with_fixed(mut v: Value) -> Value {
    if let (Some(o), Value::Object(fixed)) = (v.as_object_mut(), fixed_members()) {
        o.extend(fixed);
    }
    v
}

#[test]
fn every_option_type_reaches_the_kernel_and_every_member_type_is_decoded() {
    if !root_or_skip("every_option_type_reaches_the_kernel_and_every_member_type_is_decoded") {
        return;
    }
    let Some(launcher) = launcher() else { return };
    let _bpf = bpf_lock();
    let tmp = Tmp::new();
    let Some(pkg) = package(&tmp) else { return };

    let defaults = event(&launcher, &pkg, &[]);
    assert_eq!(
        Value::Object(defaults),
        with_fixed(json!({
            "a": -1, "b": 1, "c": -2, "d": 2, "e": -3, "f": 3, "g": -4, "h": 4,
            "i": false, "s": "abc", "col": "GREEN(1)", "data_val": 11
        }))
    );

    let extremes = event(
        &launcher,
        &pkg,
        &[
            "--v-s8",
            "-128",
            "--v-u8",
            "255",
            "--v-s16",
            "-32768",
            "--v-u16",
            "65535",
            "--v-s32",
            "-2147483648",
            "--v-u32",
            "4294967295",
            "--v-s64",
            "-9223372036854775808",
            "--v-u64",
            "18446744073709551615",
            "--v-flag",
            "--v-str",
            "1234567",
            "--v-color",
            "BLUE",
            "--v-data",
            "0x2a",
        ],
    );
    assert_eq!(
        Value::Object(extremes),
        with_fixed(json!({
            "a": -128, "b": 255, "c": -32768, "d": 65535,
            "e": -2147483648_i64, "f": 4294967295_u64,
            "g": i64::MIN, "h": u64::MAX,
            "i": true, "s": "1234567", "col": "BLUE(300)", "data_val": 42
        }))
    );

    // An enum by number; a value that is no enumerator shows as such.
    let numbered = event(&launcher, &pkg, &["--v-color", "7"]);
    assert_eq!(numbered["col"], "<UNKNOWN_VARIANT>(7)");
}

#[test]
fn out_of_range_values_for_every_width() {
    let Some(launcher) = launcher() else { return };
    let tmp = Tmp::new();
    let Some(pkg) = package(&tmp) else { return };
    for (option, value, range) in [
        ("--v-s8", "128", "-128..=127"),
        ("--v-u8", "256", "0..=255"),
        ("--v-u8", "-1", "0..=255"),
        ("--v-s16", "-32769", "-32768..=32767"),
        ("--v-u16", "65536", "0..=65535"),
        ("--v-u32", "4294967296", "0..=4294967295"),
        (
            "--v-s64",
            "9223372036854775808",
            "-9223372036854775808..=9223372036854775807",
        ),
        (
            "--v-u64",
            "18446744073709551616",
            "0..=18446744073709551615",
        ),
        ("--v-str", "12345678", "holds at most 7 bytes"),
        ("--v-color", "PURPLE", "use one of RED, GREEN, BLUE"),
    ] {
        let finished = run(Command::new(&launcher)
            .arg("run")
            .arg(&pkg)
            .args([option, value]));
        finished.assert_code(2);
        assert!(
            finished.stderr.contains(&format!("for '{option} <"))
                && finished.stderr.contains(range),
            "{option} {value}: {finished}"
        );
    }
}
