//! Reading a guest's console: the `VMTEST ...` lines /init prints, and the
//! checks the host makes on them (independently of the guest's own verdict).

use serde_json::Value;

use crate::kernels::Kernel;

/// The `VMTEST` lines of a console, without the prefix.
pub fn lines(console: &str) -> Vec<&str> {
    console
        .lines()
        .filter_map(|l| l.split_once("VMTEST ").map(|(_, rest)| rest))
        .collect()
}

/// Whether a `VMTEST` line belongs in the summary: all but libbpf's debug
/// log, of which only the CO-RE results (patched offsets) are shown.
pub fn worth_showing(line: &str) -> bool {
    !line.contains(" libbpf: ") || line.contains("patched insn")
}

/// libbpf's CO-RE results in a scenario: `relo #N: patched insn ... -> OFF`.
fn relocations<'a>(lines: &[&'a str], scenario: &str) -> Vec<&'a str> {
    let prefix = format!("STDERR {scenario} libbpf: ");
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter(|l| l.contains("patched insn"))
        .collect()
}

/// The line the guest's `/init` prints first: proof that the kernel booted
/// and ran our script.
fn boot_marker(kernel: &Kernel) -> String {
    format!(
        "BOOT release={} machine=x86_64 os=debian/{}",
        kernel.release, kernel.suite.version_id
    )
}

/// Whether the guest got as far as running `/init` (see [`boot_marker`]).
pub fn reached_init(kernel: &Kernel, console: &str) -> bool {
    let marker = boot_marker(kernel);
    lines(console).contains(&marker.as_str())
}

/// Every check a guest must pass; returns the failures (empty = pass).
pub fn check(kernel: &Kernel, console: &str) -> Vec<String> {
    let lines = lines(console);
    let identity = kernel.identity();
    let member = format!("btfhub-archive/{identity}.btf");
    let mut failures = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    let has = |prefix: &str, needle: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && l.contains(needle))
    };

    let boot = boot_marker(kernel);
    expect(
        lines.contains(&boot.as_str()),
        format!("the guest did not report `{boot}` (did it boot?)"),
    );
    expect(
        lines.contains(&"LIBC none"),
        "the initramfs has a C library directory".into(),
    );

    // 1. BTF hidden: the embedded BTF for exactly this kernel, right values.
    expect(
        lines.contains(&"CHECKEXIT hidden 0"),
        "--check with /sys/kernel/btf hidden did not exit 0".into(),
    );
    expect(
        has("CHECK hidden BTF to use:", &format!("embedded {member}")),
        format!("--check with BTF hidden does not name the embedded {member}"),
    );
    expect(
        has("STDERR hidden using BTF:", &format!("embedded {member}")),
        format!("-v with BTF hidden does not report using the embedded {member}"),
    );
    exec_checks(&lines, "hidden", &mut expect);

    // 2. A tool without this kernel: not covered, exit 3.
    expect(
        lines.contains(&"OTHEREXIT 3"),
        "the tool that does not cover this kernel did not exit 3".into(),
    );
    let not_covered = format!(
        "no BTF for debian {} x86_64 {}",
        kernel.suite.version_id, kernel.release
    );
    expect(
        has("OTHER ", &not_covered),
        format!("the not-covered error does not say `{not_covered}`"),
    );

    // 3. Native BTF visible: used.
    expect(
        lines.contains(&"CHECKEXIT native 0"),
        "--check with native BTF did not exit 0".into(),
    );
    expect(
        has("CHECK native BTF to use:", "native /sys/kernel/btf/vmlinux"),
        "--check with native BTF visible does not choose it".into(),
    );
    expect(
        has("STDERR native using BTF:", "native"),
        "-v with native BTF visible does not report using it".into(),
    );
    exec_checks(&lines, "native", &mut expect);

    // The embedded, minimised BTF gives libbpf the same offsets as the
    // kernel's own.
    let hidden = relocations(&lines, "hidden");
    let native = relocations(&lines, "native");
    expect(
        !hidden.is_empty() && hidden == native,
        format!(
            "CO-RE relocations with the embedded BTF {hidden:?} differ from those with native BTF {native:?}"
        ),
    );

    expect(
        lines.contains(&"DONE"),
        "the guest script did not finish".into(),
    );
    failures
}

/// The guest's verdict, and the host's own: an exec event for /bin/true
/// whose pid is a printed trigger pid, with that trigger's ppid, comm "true".
fn exec_checks(lines: &[&str], scenario: &str, expect: &mut impl FnMut(bool, String)) {
    expect(
        lines.contains(&format!("RESULT {scenario} PASS").as_str()),
        format!("{scenario}: the guest's exec check did not pass"),
    );
    expect(
        lines.contains(&format!("TOOLEXIT {scenario} 0").as_str()),
        format!("{scenario}: the tool did not exit 0 after SIGINT"),
    );
    let triggers: Vec<(i64, i64)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("TRIGGER {scenario} ")))
        .filter_map(parse_trigger)
        .collect();
    let events: Vec<Value> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("EVENT {scenario} ")))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut matched = false;
    for (pid, ppid) in &triggers {
        for event in events
            .iter()
            .filter(|e| e["pid"] == *pid && e["filename"] == "/bin/true")
        {
            let right = event["ppid"] == *ppid && event["comm"] == "true";
            expect(
                right,
                format!(
                    "{scenario}: trigger pid={pid} ppid={ppid} comm=true, but the event is {event}"
                ),
            );
            matched |= right;
        }
    }
    expect(
        matched,
        format!(
            "{scenario}: no exec event matches a trigger ({} triggers, {} events)",
            triggers.len(),
            events.len()
        ),
    );
}

/// `pid=123 ppid=45 comm=true` → (123, 45).
fn parse_trigger(text: &str) -> Option<(i64, i64)> {
    let mut pid = None;
    let mut ppid = None;
    for field in text.split_whitespace() {
        if let Some(v) = field.strip_prefix("pid=") {
            pid = v.parse().ok();
        } else if let Some(v) = field.strip_prefix("ppid=") {
            ppid = v.parse().ok();
        }
    }
    Some((pid?, ppid?))
}
