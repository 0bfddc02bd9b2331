//! Helpers shared by the packer integration tests: the packer binary with
//! a private cache, the sample archive, a CO-RE object, scratch dirs.
#![allow(clippy::unwrap_used, dead_code)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

pub const SAMPLE_KERNEL: &str = "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";

/// A CO-RE program with a ring buffer, an event struct, a read-only global
/// and a field relocation chain (task->real_parent->tgid).
pub const TEST_PROG: &str = r#"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct event {
	int pid;
	int ppid;
	char comm[16];
};

const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));
const volatile int target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;
	int pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"#;

/// Runs packer with a private cache directory and no BTFHUB_ARCHIVE.
pub fn packer(args: &[&str]) -> Output {
    packer_cmd(args).output().unwrap()
}

/// The packer command [`packer`] runs.
pub fn packer_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_packer"));
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .env("XDG_CACHE_HOME", scratch().join("xdg-cache"))
        .env_remove("BTFHUB_ARCHIVE");
    cmd
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "packer failed ({:?}):\n{}",
        out.status.code(),
        stderr(out)
    );
}

#[track_caller]
pub fn assert_fails(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit status; stderr:\n{err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
}

pub fn archive() -> Option<PathBuf> {
    let dir = std::env::var_os("BTFHUB_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/btfhub-archive")
        });
    if dir.join(SAMPLE_KERNEL).is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: sample btfhub archive not found at {} (set BTFHUB_ARCHIVE)",
            dir.display()
        );
        None
    }
}

/// The sample archive and the CO-RE object; `None` (with a skip notice)
/// when either is missing.
pub fn archive_and_object() -> Option<(PathBuf, PathBuf)> {
    match (archive(), object()) {
        (Some(archive), Some(obj)) => Some((archive, obj)),
        _ => None,
    }
}

/// The arguments of `packer build OBJ --btfhub ARCHIVE --kernels KERNELS...
/// --tar OUT`.
pub fn build_tar_args<'a>(
    obj: &'a Path,
    archive: &'a Path,
    kernels: &[&'a str],
    out: &'a Path,
) -> Vec<&'a str> {
    let mut args = vec![
        "build",
        str_path(obj),
        "--btfhub",
        str_path(archive),
        "--kernels",
    ];
    args.extend_from_slice(kernels);
    args.extend(["--tar", str_path(out)]);
    args
}

pub fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packer-cli");
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(scratch()).unwrap()
}

pub fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Compiles TEST_PROG once (or takes the example), `None` when impossible.
pub fn object() -> Option<PathBuf> {
    static OBJECT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = OBJECT.get_or_init(|| {
        if let Some(dir) = std::env::var_os("BPFC_EXAMPLES_DIR") {
            let obj = Path::new(&dir).join("execsnoop.bpf.o");
            if obj.is_file() {
                return Ok(obj);
            }
        }
        compile_test_prog()
    });
    match result {
        Ok(path) => Some(path.clone()),
        Err(why) => {
            eprintln!("SKIP: no BPF object: {why}");
            None
        }
    }
}

pub fn compile_test_prog() -> Result<PathBuf, String> {
    let dir = scratch().join("prog");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let vmlinux_h = dir.join("vmlinux.h");
    if !vmlinux_h.is_file() {
        let out = Command::new("bpftool")
            .args([
                "btf",
                "dump",
                "file",
                "/sys/kernel/btf/vmlinux",
                "format",
                "c",
            ])
            .output()
            .map_err(|e| format!("bpftool: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "bpftool btf dump: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let tmp = dir.join(format!("vmlinux.h.{}", std::process::id()));
        fs::write(&tmp, &out.stdout).map_err(|e| e.to_string())?;
        fs::rename(&tmp, &vmlinux_h).map_err(|e| e.to_string())?;
    }
    let src = dir.join("coretest.bpf.c");
    fs::write(&src, TEST_PROG).map_err(|e| e.to_string())?;
    let obj = dir.join("coretest.bpf.o");
    run_tool(
        Command::new("clang")
            .args(["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I"])
            .arg(&dir)
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&obj),
    )?;
    Ok(obj)
}

pub fn str_path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A file that passes for a launcher (an ELF magic and some text).
pub fn fake_launcher(dir: &Path) -> PathBuf {
    let path = dir.join("launcher");
    fs::write(&path, b"\x7fELF not really a launcher").unwrap();
    path
}
