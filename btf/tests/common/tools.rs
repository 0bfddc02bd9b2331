//! External tools: bpftool (the oracle), clang, diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// bpftool, or `None` with a notice. In CI a missing bpftool is a failure: the oracle
/// tests must not silently pass there.
pub fn bpftool() -> Option<PathBuf> {
    let path = std::env::var_os("BPFTOOL")
        .map(PathBuf::from)
        .or_else(|| find_in_path("bpftool"));
    match path {
        Some(p) => Some(p),
        None if super::env::in_ci() => {
            panic!("bpftool (the oracle) is not installed and CI=true: run `make deps`")
        }
        None => {
            eprintln!("notice: bpftool not found (run `make deps`); oracle comparisons skipped");
            None
        }
    }
}

/// Look a program up in `$PATH` and the sbin directories (bpftool lives in /usr/sbin).
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Run a command and capture its output; panic (naming the command) only if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)))
}

/// The command line of `cmd`, for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `bpftool gen min_core_btf KERNEL OUT OBJ...`; `Err(stderr)` when bpftool refuses.
pub fn bpftool_min_core_btf(
    bpftool: &Path,
    kernel: &Path,
    out: &Path,
    objects: &[&Path],
) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new(bpftool);
    cmd.args(["gen", "min_core_btf"])
        .arg(kernel)
        .arg(out)
        .args(objects);
    let output = run(&mut cmd);
    if output.status.success() {
        Ok(super::env::read(out))
    } else {
        Err(format!(
            "`{}` exited with {}: {}",
            describe(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// `bpftool btf dump file FILE format FORMAT` (FORMAT = "c" or "raw"), normalised: trailing
/// whitespace removed from every line. `Err` when bpftool cannot read the file.
pub fn bpftool_dump(bpftool: &Path, file: &Path, format: &str) -> Result<String, String> {
    let mut cmd = Command::new(bpftool);
    cmd.args(["btf", "dump", "file"])
        .arg(file)
        .args(["format", format]);
    let output = run(&mut cmd);
    if !output.status.success() {
        return Err(format!(
            "`{}` exited with {}: {}",
            describe(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// A unified diff of two texts (via `diff -u`), at most `max_lines` lines.
pub fn unified_diff(
    dir: &Path,
    left_name: &str,
    left: &str,
    right_name: &str,
    right: &str,
    max_lines: usize,
) -> String {
    let a = dir.join(left_name);
    let b = dir.join(right_name);
    super::env::write_atomic(&a, left.as_bytes());
    super::env::write_atomic(&b, right.as_bytes());
    let out = Command::new("diff").arg("-u").arg(&a).arg(&b).output();
    let text = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(_) => first_difference(left, right),
    };
    let total = text.lines().count();
    let mut shown: Vec<&str> = text.lines().take(max_lines).collect();
    let more = format!("... ({} more diff lines)", total.saturating_sub(max_lines));
    if total > max_lines {
        shown.push(&more);
    }
    shown.join("\n")
}

fn first_difference(left: &str, right: &str) -> String {
    for (i, (l, r)) in left.lines().zip(right.lines()).enumerate() {
        if l != r {
            return format!("line {}:\n-{l}\n+{r}", i + 1);
        }
    }
    format!(
        "one text is a prefix of the other ({} vs {} lines)",
        left.lines().count(),
        right.lines().count()
    )
}
