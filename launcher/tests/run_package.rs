//! `launcher run` end to end on this machine: compiles `tests/bpf/probe.bpf.c`
//! (one exec tracepoint writing to a ring buffer and a perf buffer), packs it
//! with the `bundle` API, runs the launcher with `/sys/kernel/btf` hidden, execs
//! `/bin/true` and checks the decoded events.
//!
//! Needs root, clang, bpftool and unshare; otherwise each test prints a skip
//! notice and passes.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed step is a test failure"
)]

use bundle::identity;
use bundle::kernel_btfs::KernelBtfs;
use bundle::package::{ExportType, Meta, Package};
use bundle::payload::Payload;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

const LAUNCHER: &str = env!("CARGO_BIN_EXE_launcher");
const NATIVE_BTF: &str = "/sys/kernel/btf/vmlinux";
/// Mounts an empty tmpfs over /sys/kernel/btf in a private mount namespace, then runs "$0" "$@".
const HIDE_BTF: &str = "mount -t tmpfs none /sys/kernel/btf && exec \"$0\" \"$@\"";
/// How many times /bin/true is run at most while waiting for its events.
const MAX_EXECS: usize = 300;

fn skip(test: &str, why: &str) -> bool {
    eprintln!("SKIP {test}: {why}");
    false
}

fn prerequisites(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        return skip(test, "needs root");
    }
    for tool in ["clang", "bpftool", "unshare"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return skip(test, &format!("{tool} not installed"));
        }
    }
    if !Path::new(NATIVE_BTF).exists() {
        return skip(test, "host has no /sys/kernel/btf/vmlinux to build with");
    }
    true
}

/// Compile the probe in `dir` and return the object bytes.
fn build_object(dir: &Path) -> Vec<u8> {
    let vmlinux = dir.join("vmlinux.h");
    let out = Command::new("bpftool")
        .args(["btf", "dump", "file", NATIVE_BTF, "format", "c"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bpftool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&vmlinux, &out.stdout).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/probe.bpf.c");
    let obj = dir.join("probe.bpf.o");
    let out = Command::new("clang")
        .args(["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I"])
        .arg(dir)
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clang: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&obj).unwrap()
}

/// A package for the probe with `struct event` exported (as ecc would).
fn package(object: &[u8]) -> Package {
    let btf = btf::Btf::from_elf(object).unwrap();
    let id = btf
        .ids_by_name("event")
        .find(|id| matches!(btf.type_by_id(*id), Some(btf::Type::Struct { .. })))
        .unwrap();
    let Some(btf::Type::Struct { size, members, .. }) = btf.type_by_id(id) else {
        panic!("struct event missing");
    };
    let members: Vec<serde_json::Value> = members
        .iter()
        .map(|m| serde_json::json!({"name": m.name, "type": btf.c_type_name(m.type_id)}))
        .collect();
    let export: ExportType = serde_json::from_value(serde_json::json!({
        "name": "event", "size": size, "type_id": id, "members": members
    }))
    .unwrap();
    let mut meta = Meta::new("probe_bpf");
    meta.export_types = vec![export];
    Package::new(object, meta)
}

/// Write a tar.gz payload with `btfs` and return its path.
fn write_payload(
    dir: &Path,
    package: Package,
    btfs: BTreeMap<identity::KernelId, Arc<[u8]>>,
) -> PathBuf {
    let payload = Payload {
        package,
        btfs: btfs.into(),
    };
    let path = dir.join("probe.tar.gz");
    std::fs::write(&path, payload.to_tar_gz().unwrap()).unwrap();
    path
}

/// The host's BTF, embedded under this machine's identity.
fn host_btfs() -> BTreeMap<identity::KernelId, Arc<[u8]>> {
    let me = identity::detect().unwrap();
    let bytes = std::fs::read(NATIVE_BTF).unwrap();
    BTreeMap::from([(me, Arc::from(bytes))])
}

fn hidden_btf_launcher() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", HIDE_BTF, LAUNCHER]);
    cmd
}

fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Run {
    stdout: Vec<String>,
    stderr: Vec<String>,
    status: ExitStatus,
}

/// Start `cmd`, wait until it has attached, exec /bin/true until `done`
/// accepts the output lines, then SIGINT it and collect everything.
fn run_until(cmd: Command, done: impl Fn(&[String]) -> bool) -> Run {
    run_until_signal(cmd, done, nix::sys::signal::Signal::SIGINT)
}

/// [`run_until`], stopping the launcher with `stop`.
fn run_until_signal(
    mut cmd: Command,
    done: impl Fn(&[String]) -> bool,
    stop: nix::sys::signal::Signal,
) -> Run {
    let mut child: Child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let mut stderr = Vec::new();
    // Wait for the "attached" notice (or the end of stderr if it failed).
    for line in err.iter() {
        let attached = line.contains("attached");
        stderr.push(line);
        if attached {
            break;
        }
    }
    let mut stdout = Vec::new();
    for _ in 0..MAX_EXECS {
        if done(&stdout) || child.try_wait().unwrap().is_some() {
            break;
        }
        Command::new("/bin/true").status().unwrap();
        while let Ok(line) = out.recv_timeout(Duration::from_millis(20)) {
            stdout.push(line);
        }
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    let _ = nix::sys::signal::kill(pid, stop);
    let status = child.wait().unwrap();
    stdout.extend(out.iter());
    stderr.extend(err.iter());
    Run {
        stdout,
        stderr,
        status,
    }
}

fn json_events(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn has_true_event(events: &[serde_json::Value], src: &str) -> bool {
    events
        .iter()
        .any(|e| e["comm"] == "true" && e["src"] == src)
}

#[test]
fn embedded_btf_from_memfd_decodes_ring_and_perf_events() {
    if !prerequisites("embedded_btf_from_memfd_decodes_ring_and_perf_events") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let pkg = write_payload(tmp.path(), package(&object), host_btfs());

    let mut cmd = hidden_btf_launcher();
    cmd.args(["run", "--json", "-v"]).arg(&pkg);
    let run = run_until(cmd, |out| {
        let ev = json_events(out);
        has_true_event(&ev, "SRC_RING(1)") && has_true_event(&ev, "SRC_PERF(2)")
    });
    let stderr = run.stderr.join("\n");
    assert!(
        run.status.success(),
        "launcher failed: {:?}\n{stderr}",
        run.status
    );
    assert!(
        stderr.contains("/proc/self/fd/"),
        "libbpf must get the embedded BTF from a memfd:\n{stderr}"
    );
    let events = json_events(&run.stdout);
    for src in ["SRC_RING(1)", "SRC_PERF(2)"] {
        let e = events
            .iter()
            .find(|e| e["comm"] == "true" && e["src"] == src)
            .unwrap_or_else(|| {
                panic!("no {src} event for /bin/true in {:?}\n{stderr}", run.stdout)
            });
        assert_eq!(e["flag"], 1, "{e}");
        assert_eq!(e["level"], 5, "{e}");
        assert_eq!(e["is_exec"], true, "{e}");
        assert!(e["pid"].as_i64().is_some_and(|p| p > 0), "{e}");
        assert!(e["ts"].as_u64().is_some_and(|t| t > 0), "{e}");
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "{e}");
    }
}

#[test]
fn btf_override_and_table_output() {
    if !prerequisites("btf_override_and_table_output") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let btf_copy = tmp.path().join("vmlinux.btf");
    std::fs::copy(NATIVE_BTF, &btf_copy).unwrap();
    // No embedded BTF at all: only --btf can make it run.
    let pkg = write_payload(tmp.path(), package(&object), BTreeMap::new());

    let mut cmd = hidden_btf_launcher();
    cmd.arg("run").arg(&pkg).arg("--btf").arg(&btf_copy);
    // SIGTERM, like a service manager: a clean stop with exit code 0 too.
    let run = run_until_signal(
        cmd,
        |out| {
            ["SRC_RING(1)", "SRC_PERF(2)"]
                .iter()
                .all(|src| true_row(out, src).is_some())
        },
        nix::sys::signal::Signal::SIGTERM,
    );
    let stderr = run.stderr.join("\n");
    assert!(
        run.status.success(),
        "launcher failed: {:?}\n{stderr}",
        run.status
    );
    let header = run.stdout.first().unwrap();
    assert_eq!(
        header, "TIME     PID    COMM   SRC    FLAG   LEVEL  IS_EXEC TS     ",
        "{stderr}"
    );
    let row = true_row(&run.stdout, "SRC_RING(1)")
        .unwrap_or_else(|| panic!("no row for /bin/true: {:?}", run.stdout));
    // HH:MM:SS, then values under their headers.
    assert!(
        row.get(..9)
            .is_some_and(|t| t.as_bytes().get(2) == Some(&b':') && t.ends_with(' ')),
        "{row}"
    );
    let pid_col = header.find("PID").unwrap();
    assert!(
        row.get(pid_col..)
            .and_then(|r| r.split(' ').next())
            .is_some_and(|p| p.parse::<u32>().is_ok()),
        "{row}"
    );
    assert!(
        row.contains(" SRC_RING(1) 1 5 ") && row.contains(" true "),
        "{row}"
    );
}

/// Column where COMM starts in the table (from the expected header).
const COMM_COLUMN: usize = 16;

/// The table row for a `/bin/true` exec that came through `src`.
fn true_row<'a>(rows: &'a [String], src: &str) -> Option<&'a String> {
    rows.iter()
        .find(|r| r.get(COMM_COLUMN..COMM_COLUMN + 5) == Some("true ") && r.contains(src))
}

#[test]
fn kernel_not_covered_exits_3() {
    if !prerequisites("kernel_not_covered_exits_3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let other = identity::KernelId::new("ubuntu", "20.04", "x86_64", "5.4.0-26-generic");
    let pkg = write_payload(
        tmp.path(),
        package(&object),
        BTreeMap::from([(other, Arc::from(&b"not used"[..]))]),
    );
    for extra in [&["--check"][..], &[][..]] {
        let out = hidden_btf_launcher()
            .arg("run")
            .arg(&pkg)
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{extra:?}: {text}");
        assert!(text.contains("packer build"), "{extra:?}: {text}");
    }
}

#[test]
fn plain_launcher_renamed_without_payload_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let tool = tmp.path().join("mytool");
    std::fs::copy(LAUNCHER, &tool).unwrap();
    let out = Command::new(&tool).arg("--check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("no bpf-compatible payload"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = Command::new(LAUNCHER).args(["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(LAUNCHER).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("launcher run PKG") && help.contains("Packed tool"),
        "{help}"
    );
}

/// A packed tool: the launcher with the payload appended (FORMAT.md §1).
fn packed_tool(dir: &Path, name: &str, payload: &Payload) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let launcher = std::fs::read(LAUNCHER).unwrap();
    let tool = dir.join(name);
    let bytes = bundle::trailer::append_payload(&launcher, &payload.to_tar_gz().unwrap());
    std::fs::write(&tool, bytes).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    tool
}

#[test]
fn packed_tool_uses_its_embedded_btf_and_rejects_a_corrupt_payload() {
    if !prerequisites("packed_tool_uses_its_embedded_btf_and_rejects_a_corrupt_payload") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let payload = Payload {
        package: package(&object),
        btfs: host_btfs().into(),
    };
    let tool = packed_tool(tmp.path(), "probe", &payload);

    // --check with the native BTF hidden names the embedded BTF.
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", HIDE_BTF])
        .arg(&tool)
        .arg("--check")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let choice = report
        .lines()
        .find(|l| l.starts_with("BTF to use:"))
        .unwrap_or("");
    assert!(choice.contains("embedded btfhub-archive/"), "{report}");

    // The same tool runs and prints events.
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", HIDE_BTF])
        .arg(&tool)
        .arg("--json");
    let run = run_until(cmd, |out| has_true_event(&json_events(out), "SRC_RING(1)"));
    assert!(run.status.success(), "{:?}", run.stderr);
    assert!(
        has_true_event(&json_events(&run.stdout), "SRC_RING(1)"),
        "{:?}",
        run.stdout
    );

    // One flipped payload byte: exit 5, "corrupt".
    let mut bytes = std::fs::read(&tool).unwrap();
    let launcher_len = std::fs::metadata(LAUNCHER).unwrap().len() as usize;
    bytes[launcher_len + 10] ^= 0x55;
    let broken = tmp.path().join("broken");
    std::fs::write(&broken, &bytes).unwrap();
    std::fs::set_permissions(&broken, std::fs::metadata(&tool).unwrap().permissions()).unwrap();
    let out = Command::new(&broken).arg("--check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
}

#[test]
fn unprivileged_run_exits_4_but_check_works() {
    if !prerequisites("unprivileged_run_exits_4_but_check_works") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let payload = Payload {
        package: package(&object),
        btfs: KernelBtfs::new(),
    };
    let tool = packed_tool(tmp.path(), "probe", &payload);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let nobody = |arg: Option<&str>| {
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ])
            .arg(&tool)
            .args(arg)
            .output()
            .unwrap()
    };
    let out = nobody(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("root"),
        "{stderr}"
    );
    let out = nobody(Some("--check"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn libbpf_failure_exits_6_with_libbpfs_reason() {
    if !prerequisites("libbpf_failure_exits_6_with_libbpfs_reason") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let object = build_object(tmp.path());
    let pkg = write_payload(tmp.path(), package(&object), BTreeMap::new());
    let junk = tmp.path().join("junk.btf");
    std::fs::write(&junk, b"this is not BTF").unwrap();
    // `timeout` only guards against a hang (the launcher would poll forever if it loaded).
    let out = Command::new("timeout")
        .args(["120", LAUNCHER, "run"])
        .arg(&pkg)
        .arg("--btf")
        .arg(&junk)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    // libbpf-rs alone only gives an errno; the launcher must add libbpf's own lines.
    assert!(
        stderr.contains("libbpf: failed to parse target BTF"),
        "{stderr}"
    );
}
