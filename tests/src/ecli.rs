//! Fixtures in eunomia's formats, written here from the documented formats
//! (not by `packer`): an ecc `package.json` (`bpf_object` = standard base64
//! of a zlib stream of the ELF), ecc's plain tar and bpf-compatible's btfgen
//! tar.gz (made with GNU tar the way those tools make them), plus helpers to
//! drive the `writesize` example and read its histograms.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::process::{run, Running, SEEN_GUARD};
use crate::tool::host_identity;

/// RFC 1950 zlib stream of `data` in stored (uncompressed) deflate blocks
/// (RFC 1951 §3.2.4) with its Adler-32 checksum.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i == last));
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// Standard base64 with `=` padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ABC[idx]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The BTF type id of struct `name` in `object`, from `bpftool -j btf dump`.
#[track_caller]
pub fn struct_id(object: &Path, name: &str) -> u64 {
    let out = run(Command::new("bpftool")
        .arg("-j")
        .args(["btf", "dump", "file"])
        .arg(object));
    out.assert_success();
    let dump: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("bpftool -j output is not JSON ({e}): {out}"));
    dump["types"]
        .as_array()
        .and_then(|types| {
            types
                .iter()
                .find(|t| t["kind"] == "STRUCT" && t["name"] == name)
        })
        .and_then(|t| t["id"].as_u64())
        .unwrap_or_else(|| panic!("no struct {name} in {}", object.display()))
}

/// The `meta` ecc would write for `writesize.bpf.o` (maps, progs, data
/// sections with doc and cmdarg, the `hists` sample, `struct event` exported).
#[track_caller]
pub fn writesize_meta(object: &Path) -> Value {
    let event = struct_id(object, "event");
    json!({
        "eunomia_version": "0.3.4",
        "bpf_skel": {
            "obj_name": "writesize_bpf",
            "doc": {"brief": "write(2) sizes (ecc fixture)", "version": "0.1.0"},
            "maps": [
                {"name": "hists", "ident": "hists",
                 "sample": {"interval": 60000, "type": "log2_hist", "unit": "bytes"}},
                {"name": "events", "ident": "events"},
                {"name": "writesiz.rodata", "ident": "rodata", "mmaped": true},
                {"name": "writesiz.bss", "ident": "bss", "mmaped": true}
            ],
            "progs": [{"name": "handle_write", "attach": "tp/syscalls/sys_enter_write", "link": true}],
            "data_sections": [
                {"name": ".rodata", "variables": [
                    {"name": "target_pid", "type": "pid_t", "description": "Process to trace",
                     "cmdarg": {"long": "pid", "short": "p"}},
                    {"name": "min_bytes", "type": "__u64"},
                    {"name": "target_comm", "type": "char[16]"},
                    {"name": "unit", "type": "enum size_unit"},
                    {"name": "skip_stdio", "type": "bool"},
                    {"name": "emit_events", "type": "bool"}
                ]},
                {"name": ".bss", "variables": [
                    {"name": "counted", "type": "__u64"},
                    {"name": "__eunomia_dummy_event_ptr", "type": "struct event *"}
                ]}
            ]
        },
        "export_types": [{"name": "event", "size": 48, "type_id": event, "members": [
            {"name": "pid", "type": "__u32"}, {"name": "fd", "type": "int"},
            {"name": "size", "type": "__u64"}, {"name": "comm", "type": "char[16]"},
            {"name": "unit", "type": "enum size_unit"}, {"name": "stdio", "type": "bool"}
        ]}]
    })
}

/// An ecc `package.json` for `object` with `meta`.
pub fn package_json(object: &[u8], meta: &Value) -> String {
    json!({
        "bpf_object": base64(&zlib_stored(object)),
        "bpf_object_size": object.len(),
        "meta": meta
    })
    .to_string()
}

/// Writes `package.json`, `btfhub-archive/<identity>.btf` for each
/// `(identity, BTF file)` and `extra` files into a fresh directory `dir`.
#[track_caller]
pub fn package_dir(dir: &Path, json: &str, btfs: &[(String, PathBuf)], extra: &[(&str, &[u8])]) {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    fs::write(dir.join("package.json"), json).unwrap_or_else(|e| panic!("package.json: {e}"));
    for (identity, btf) in btfs {
        let path = dir.join("btfhub-archive").join(format!("{identity}.btf"));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        fs::copy(btf, &path).unwrap_or_else(|e| panic!("copy to {}: {e}", path.display()));
    }
    for (name, bytes) in extra {
        fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// `ecc -b`'s tar: uncompressed, names without `./`, directory entries, the
/// object as an extra member.
#[track_caller]
pub fn ecc_tar(dir: &Path, out: &Path, object_name: &str) {
    let mut members = vec!["package.json", object_name];
    if dir.join("btfhub-archive").is_dir() {
        members.push("btfhub-archive");
    }
    run(Command::new("tar")
        .arg("-cf")
        .arg(out)
        .arg("-C")
        .arg(dir)
        .args(members))
    .assert_success();
}

/// bpf-compatible btfgen's output: `tar -czf OUT .` in the directory (gzip,
/// every name starting with `./`, directory entries).
#[track_caller]
pub fn btfgen_tar(dir: &Path, out: &Path) {
    run(Command::new("tar")
        .arg("-czf")
        .arg(out)
        .arg("-C")
        .arg(dir)
        .arg("."))
    .assert_success();
}

/// This machine's identity with another kernel release, so an archive
/// holding only it does not cover this kernel.
pub fn other_identity() -> String {
    format!("{}-not-this-one", host_identity())
}

/// A process that waits for `go` to exist and then runs `script` (with
/// `exec`, so the pid stays the same) — started before the tool so its pid
/// can be a filter.
pub struct Gated {
    /// The gated shell.
    pub child: std::process::Child,
    go: PathBuf,
}

impl Gated {
    /// Starts `sh -c 'wait for GO; exec SCRIPT'`.
    #[track_caller]
    pub fn spawn(go: &Path, script: &str) -> Gated {
        let sh = format!(
            "while [ ! -e '{}' ]; do sleep 0.02; done; exec {script}",
            go.display()
        );
        let child = Command::new("sh")
            .args(["-c", &sh])
            .spawn()
            .unwrap_or_else(|e| panic!("starting sh: {e}"));
        Gated {
            child,
            go: go.to_path_buf(),
        }
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets it run and waits for it to end.
    #[track_caller]
    pub fn release(mut self) {
        fs::write(&self.go, b"go")
            .unwrap_or_else(|e| panic!("creating {}: {e}", self.go.display()));
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for the gated process: {e}"));
        assert!(status.success(), "gated process failed: {status}");
    }
}

/// Waits until the tool says it has attached (or exits, or the guard runs
/// out); `false` unless attached.
pub fn wait_attached(tool: &mut Running) -> bool {
    let start = Instant::now();
    while start.elapsed() < SEEN_GUARD {
        if tool.stderr().contains("attached") {
            return true;
        }
        if tool.has_exited() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits for `tool` to attach, then releases `gate` and hands the tool back;
/// when the tool does not attach, kills the gated process and panics with
/// what the tool printed.
#[track_caller]
pub fn attach_then_release(mut tool: Running, gate: Gated) -> Running {
    if !wait_attached(&mut tool) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(gate.pid()).unwrap_or(0)),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("the tool did not attach: {}", tool.interrupt());
    }
    gate.release();
    tool
}

/// The count of the last printed histogram row starting at `low`
/// (`       512 -> 1023       : 5        |****|`).
pub fn hist_count(out: &str, low: u64) -> Option<u64> {
    out.lines().rev().find_map(|line| {
        let (range, rest) = line.split_once(" : ")?;
        let (lo, _) = range.trim().split_once(" -> ")?;
        if lo.trim().parse::<u64>().ok()? != low {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn zlib_header_and_adler() {
        let z = zlib_stored(b"abc");
        assert_eq!(&z[..2], &[0x78, 0x01]);
        assert_eq!(&z[2..7], &[1, 3, 0, 0xfc, 0xff]);
        // Adler-32 of "abc" is 0x024d0127.
        assert_eq!(&z[z.len() - 4..], &[0x02, 0x4d, 0x01, 0x27]);
    }

    #[test]
    fn histogram_rows_are_read() {
        let out = "     bytes               : count    distribution\n         0 -> 1          : 0        |   |\n       512 -> 1023       : 5        |***|\n";
        assert_eq!(hist_count(out, 512), Some(5));
        assert_eq!(hist_count(out, 0), Some(0));
        assert_eq!(hist_count(out, 2), None);
    }
}
