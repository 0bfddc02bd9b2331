//! Cross-kernel proof: one packed tool, booted in QEMU guests running real
//! Debian kernels (the bullseye 5.10, bookworm 6.1 and trixie 6.12 cloud
//! kernels) with another user space (a busybox-only initramfs, no C library).
//!
//! The tool (`execsnoop`) is packed once with the BTF of all kernels, read
//! from their `vmlinuz` (`packer build --btf-from vmlinuz --as IDENTITY`).
//! Each guest (`/init` = `init.sh`) then, with its `/sys/kernel/btf` hidden,
//! runs the tool, prints `$$`/`$PPID` and execs `/bin/true`; the exec event
//! must carry exactly those values. It also runs a tool without its kernel
//! (not covered, exit 3) and the tool with native BTF visible (native used).
//! The host checks the console output again (`report.rs`).
//!
//! A plain `main` (harness = false) so progress and skip notices are shown
//! under `cargo test`. Skips, with a notice, when qemu or busybox-static is
//! missing (a failure under CI=true, where `make deps` installs them) or the
//! kernels cannot be downloaded. `make vm-test` runs only this test.

mod cpio;
mod guest;
mod kernels;
mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use kernels::Kernel;

/// The test's name for `--list` and filters.
const NAME: &str = "vm_debian_guests";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if args.iter().any(|a| a == "--ignored")
        || (!filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())))
    {
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    let outcome = run();
    let secs = start.elapsed().as_secs();
    match outcome {
        Outcome::Pass => {
            eprintln!("vm: PASS ({secs}s)");
            ExitCode::SUCCESS
        }
        Outcome::Skip(why) => {
            eprintln!("vm: SKIPPED the VM tests: {why}");
            ExitCode::SUCCESS
        }
        Outcome::Fail(failures) => {
            for f in &failures {
                eprintln!("vm: FAIL: {f}");
            }
            eprintln!("vm: {} check(s) failed ({secs}s)", failures.len());
            ExitCode::FAILURE
        }
    }
}

enum Outcome {
    Pass,
    Skip(String),
    Fail(Vec<String>),
}

/// A missing prerequisite: a skip, except under CI where the tests must run.
fn missing(what: String) -> Outcome {
    if e2e::in_ci() {
        Outcome::Fail(vec![format!("{what} (CI=true: the VM tests must run)")])
    } else {
        Outcome::Skip(what)
    }
}

fn run() -> Outcome {
    if !cfg!(target_arch = "x86_64") {
        return Outcome::Skip("the guests are x86_64; this host is not".into());
    }
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        return missing(
            "qemu-system-x86_64 not found (install qemu-system-x86, e.g. `sudo make deps`)".into(),
        );
    }
    let busybox = std::env::var_os("BPFC_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"));
    match is_static(&busybox) {
        Ok(true) => {}
        Ok(false) => {
            return missing(format!(
                "{} is dynamically linked; the guest needs busybox-static",
                busybox.display()
            ))
        }
        Err(e) => return missing(format!("{e} (install busybox-static)")),
    }
    let (Some(packer), Some(launcher), Some(object)) =
        (e2e::packer(), e2e::launcher(), e2e::example("execsnoop"))
    else {
        return Outcome::Skip("the binaries or the examples are not built".into());
    };
    match is_static(&launcher) {
        Ok(true) => {}
        Ok(false) => {
            return Outcome::Fail(vec![format!(
                "{} is not statically linked; the guest has no C library",
                launcher.display()
            )])
        }
        Err(e) => return Outcome::Fail(vec![e]),
    }
    let Some(cache) = kernels::cache_dir() else {
        return Outcome::Skip("no cache directory (set BPFC_VM_CACHE or HOME)".into());
    };
    let mut kernels = Vec::new();
    for suite in &kernels::SUITES {
        match kernels::get(&cache, suite) {
            Ok(k) => kernels.push(k),
            Err(e) => {
                return Outcome::Skip(format!(
                    "cannot get the Debian {} cloud kernel: {e}",
                    suite.codename
                ))
            }
        }
    }
    for k in &kernels {
        eprintln!("vm: kernel {} from {}", k.identity(), k.vmlinuz.display());
    }

    let tmp = e2e::Tmp::new();
    let shared = Shared {
        tool: tmp.path("execsnoop"),
        tmp,
        packer,
        object,
        busybox,
        logs: cache.join("logs"),
    };
    // One tool, packed once with every kernel's BTF, for every guest.
    if let Err(e) = pack(&shared, &kernels.iter().collect::<Vec<_>>(), &shared.tool) {
        return Outcome::Fail(vec![e]);
    }
    let _ = std::fs::create_dir_all(&shared.logs);

    // One guest per kernel, booted in parallel (one vCPU each).
    let results: Vec<(String, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = kernels
            .iter()
            .map(|kernel| {
                let others: Vec<&Kernel> = kernels
                    .iter()
                    .filter(|k| k.release != kernel.release)
                    .collect();
                let shared = &shared;
                s.spawn(move || (kernel.identity(), guest_test(shared, kernel, &others)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| ("?".into(), vec!["a guest thread panicked".into()]))
            })
            .collect()
    });
    let failures: Vec<String> = results
        .into_iter()
        .flat_map(|(id, fs)| fs.into_iter().map(move |f| format!("{id}: {f}")))
        .collect();
    if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failures)
    }
}

/// What every guest shares.
struct Shared {
    /// Scratch directory (tools, initramfs images).
    tmp: e2e::Tmp,
    /// The tool packed with every kernel's BTF.
    tool: PathBuf,
    packer: PathBuf,
    /// The example object (execsnoop).
    object: PathBuf,
    busybox: PathBuf,
    /// Where the consoles are saved.
    logs: PathBuf,
}

/// Boots `kernel` with the shared tool and one packed for `others` only;
/// returns the failed checks.
fn guest_test(shared: &Shared, kernel: &Kernel, others: &[&Kernel]) -> Vec<String> {
    let name = kernel.suite.codename;
    let other = shared.tmp.path(&format!("execsnoop-without-{name}"));
    if let Err(e) = pack(shared, others, &other) {
        return vec![e];
    }
    let contents = guest::Contents {
        busybox: &shared.busybox,
        tool: &shared.tool,
        other: &other,
    };
    let initrd = shared.tmp.path(&format!("{name}.cpio"));
    let written = guest::initramfs(kernel, &contents).and_then(|bytes| {
        std::fs::write(&initrd, bytes).map_err(|e| format!("{}: {e}", initrd.display()))
    });
    if let Err(e) = written {
        return vec![e];
    }
    let log = shared.logs.join(format!("{}.log", kernel.release));
    eprintln!(
        "vm: booting {} (console: {})",
        kernel.identity(),
        log.display()
    );
    let mut boot = match guest::boot(kernel, &initrd, &log) {
        Ok(boot) => boot,
        Err(e) => return vec![e],
    };
    // Under TCG a guest kernel occasionally crashes while booting, before
    // /init runs (seen once: an oops in copy_process on 6.12). That says
    // nothing about the tool, so such a guest gets one more boot; a guest
    // that reached /init is judged on its first run.
    if !report::reached_init(kernel, &boot.console) {
        eprintln!(
            "vm: {} never reached /init (guest kernel crash while booting?); booting it once more",
            kernel.identity()
        );
        boot = match guest::boot(kernel, &initrd, &log) {
            Ok(boot) => boot,
            Err(e) => return vec![e],
        };
    }
    let mut failures = report::check(kernel, &boot.console);
    if boot.killed {
        failures.push("the guest did not power off and was killed by the hang guard".into());
    }
    let mut out = format!(
        "vm: {} guest ran {:.1}s, {}:\n",
        kernel.identity(),
        boot.elapsed.as_secs_f64(),
        if failures.is_empty() { "PASS" } else { "FAIL" }
    );
    for line in report::lines(&boot.console)
        .into_iter()
        .filter(|l| report::worth_showing(l))
    {
        out.push_str(&format!("  [{name}] {line}\n"));
    }
    if !failures.is_empty() {
        out.push_str(&format!("  [{name}] full console:\n{}\n", boot.console));
    }
    eprint!("{out}");
    failures
}

/// `packer build OBJ --btf-from VMLINUZ --as IDENTITY ... -o TOOL`.
fn pack(shared: &Shared, kernels: &[&Kernel], tool: &Path) -> Result<(), String> {
    let packer = &shared.packer;
    let mut cmd = Command::new(packer);
    cmd.arg("build").arg(&shared.object);
    for k in kernels {
        cmd.arg("--btf-from")
            .arg(&k.vmlinuz)
            .arg("--as")
            .arg(k.identity());
    }
    cmd.arg("-o").arg(tool);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", packer.display()))?;
    if !out.status.success() {
        return Err(format!(
            "packing {} failed ({}): {}",
            tool.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    eprint!("vm: {}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

/// Whether an ELF executable has no program interpreter (PT_INTERP).
fn is_static(path: &Path) -> Result<bool, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let not_elf = || format!("{} is not a 64-bit ELF file", path.display());
    if !bytes.starts_with(b"\x7fELF\x02\x01") {
        return Err(not_elf());
    }
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return Err(not_elf());
    };
    const PT_INTERP: u32 = 3;
    for i in 0..usize::from(phnum) {
        let at = usize::try_from(phoff).map_err(|_| not_elf())? + i * usize::from(phentsize);
        let p_type = bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(not_elf)?;
        if p_type == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}
