//! One guest: its initramfs (busybox, /init, os-release, the tools) and a
//! boot under `qemu-system-x86_64 -accel tcg` with the console on serial.
//! `-cpu max`: the default qemu64 model lacks CMPXCHG16B, without which 6.12
//! kernels double-fault early in boot.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cpio::{Archive, Dev};
use crate::kernels::Kernel;

/// The guest's /init.
const INIT: &str = include_str!("init.sh");

/// How long a guest may run before it is killed (a hang guard; a guest
/// normally powers off within a minute under TCG).
const HANG_GUARD: Duration = Duration::from_secs(240);

/// What goes into a guest.
pub struct Contents<'a> {
    /// The statically linked busybox.
    pub busybox: &'a Path,
    /// The tool covering this guest's kernel.
    pub tool: &'a Path,
    /// A tool that does not cover it.
    pub other: &'a Path,
}

/// The initramfs for `kernel`: only busybox, the tools, /init and the
/// identity files; no C library.
pub fn initramfs(kernel: &Kernel, contents: &Contents) -> Result<Vec<u8>, String> {
    let read = |p: &Path| fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let mut cpio = Archive::default();
    for dir in ["bin", "dev", "etc", "proc", "sys", "tmp"] {
        cpio.dir(dir);
    }
    cpio.char_dev("dev/console", 0o600, Dev { major: 5, minor: 1 });
    cpio.file("bin/busybox", 0o755, &read(contents.busybox)?);
    cpio.file("bin/execsnoop", 0o755, &read(contents.tool)?);
    cpio.file("bin/execsnoop-other", 0o755, &read(contents.other)?);
    cpio.file("init", 0o755, INIT.as_bytes());
    cpio.file("etc/os-release", 0o644, os_release(kernel).as_bytes());
    cpio.file(
        "etc/vmtest.conf",
        0o644,
        b"TOOL=/bin/execsnoop\nOTHER=/bin/execsnoop-other\n",
    );
    Ok(cpio.finish())
}

/// Debian's os-release for the kernel's suite (the fields the launcher reads
/// plus a few for people).
fn os_release(kernel: &Kernel) -> String {
    let suite = kernel.suite;
    format!(
        "PRETTY_NAME=\"Debian GNU/Linux {v} ({c})\"\nNAME=\"Debian GNU/Linux\"\n\
         VERSION_ID=\"{v}\"\nVERSION=\"{v} ({c})\"\nVERSION_CODENAME={c}\nID=debian\n",
        v = suite.version_id,
        c = suite.codename
    )
}

/// The end of a boot.
pub struct Boot {
    /// Console output, `\r` removed.
    pub console: String,
    /// Whether the hang guard killed the guest.
    pub killed: bool,
    /// Wall-clock time of the boot.
    pub elapsed: Duration,
}

/// Boots `kernel` with `initrd` and collects the serial console, also
/// written to `log` as it arrives.
pub fn boot(kernel: &Kernel, initrd: &Path, log: &Path) -> Result<Boot, String> {
    let start = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-accel", "tcg", "-cpu", "max", "-m", "512", "-smp", "1"])
        .args(["-nographic", "-no-reboot", "-nic", "none"])
        .arg("-kernel")
        .arg(&kernel.vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet rdinit=/init"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let log_path: PathBuf = log.to_path_buf();
    let reader = thread::spawn(move || -> String {
        let mut console = String::new();
        let mut file = fs::File::create(&log_path).ok();
        if let Some(out) = stdout {
            for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
                let line = String::from_utf8_lossy(&line).replace('\r', "");
                if let Some(f) = file.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                console.push_str(&line);
                console.push('\n');
            }
        }
        console
    });
    let errors = thread::spawn(move || -> String {
        let mut text = String::new();
        if let Some(err) = stderr {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    });
    let mut killed = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > HANG_GUARD => {
                let _ = child.kill();
                let _ = child.wait();
                killed = true;
                break;
            }
            Ok(None) => thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for qemu: {e}")),
        }
    }
    let mut console = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    if !errors.trim().is_empty() {
        console.push_str("[qemu stderr]\n");
        console.push_str(&errors);
    }
    Ok(Boot {
        console,
        killed,
        elapsed: start.elapsed(),
    })
}
