//! Running git for `packer fetch` and `packer kernels`: clear errors when
//! git is missing or fails; git's own progress on a terminal.

use std::{
    ffi::OsStr,
    io::{IsTerminal, Read, Write},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};

/// How much of git's stderr an error message quotes.
const TAIL: usize = 2000;

fn command(dir: Option<&Path>, args: &[&OsStr]) -> Command {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        // Never wait for a password on a terminal: a private or mistyped
        // https URL fails at once.
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    cmd
}

fn describe(args: &[&OsStr]) -> String {
    let words: Vec<String> = args
        .iter()
        .take(3)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("git {}", words.join(" "))
}

fn spawn_error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "git is not installed (or not on PATH); packer fetch needs it: install git \
             (e.g. apt-get install git), or download btfhub-archive yourself and pass --btfhub DIR"
        )
    } else {
        anyhow::anyhow!("cannot run git: {e}")
    }
}

/// Runs git in `dir` (or the current directory). On a terminal git writes
/// its progress there; otherwise its messages are collected and the last of
/// them end up in the error when it fails. `hint` says what to check then.
pub fn run(dir: Option<&Path>, args: &[&OsStr], hint: &str) -> Result<()> {
    run_with_input(dir, args, b"", hint)
}

/// Like [`run`], with `input` on git's standard input.
pub fn run_with_input(dir: Option<&Path>, args: &[&OsStr], input: &[u8], hint: &str) -> Result<()> {
    let mut cmd = command(dir, args);
    if !input.is_empty() {
        cmd.stdin(Stdio::piped());
    }
    let on_terminal = std::io::stderr().is_terminal();
    cmd.stdout(Stdio::null());
    cmd.stderr(if on_terminal {
        Stdio::inherit()
    } else {
        Stdio::piped()
    });
    let mut child = cmd.spawn().map_err(spawn_error)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A failure to write shows as git's own failure below.
        let _ = stdin.write_all(input);
    }
    let mut messages = Vec::new();
    if let Some(mut stderr) = child.stderr.take() {
        // Read to the end so git never blocks on a full pipe.
        let _ = stderr.read_to_end(&mut messages);
    }
    let status = child.wait().map_err(spawn_error)?;
    if status.success() {
        if !messages.is_empty() {
            log::debug!(
                "{}: {}",
                describe(args),
                String::from_utf8_lossy(&messages).trim()
            );
        }
        return Ok(());
    }
    let said = if on_terminal {
        "see git's message above".to_owned()
    } else {
        tail(&messages)
    };
    bail!("`{}` failed ({status}): {said}; {hint}", describe(args))
}

/// Runs git and returns its standard output; failures quote its stderr.
pub fn output(dir: Option<&Path>, args: &[&OsStr]) -> Result<String> {
    let out = command(dir, args)
        .stderr(Stdio::piped())
        .output()
        .map_err(spawn_error)?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            describe(args),
            out.status,
            tail(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", describe(args)))
}

/// The end of git's messages, on one line.
fn tail(messages: &[u8]) -> String {
    let text = String::from_utf8_lossy(messages);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut joined = lines.join(" / ");
    if joined.len() > TAIL {
        let mut start = joined.len() - TAIL;
        while !joined.is_char_boundary(start) {
            start += 1;
        }
        joined = format!("...{}", &joined[start..]);
    }
    if joined.is_empty() {
        "git printed nothing".to_owned()
    } else {
        joined
    }
}

/// Prints a `packer fetch` status line on stderr.
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "packer: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_on_one_line() {
        assert_eq!(tail(b""), "git printed nothing");
        assert_eq!(
            tail(b"Cloning into 'x'...\nfatal: repository 'y' does not exist\n"),
            "Cloning into 'x'... / fatal: repository 'y' does not exist"
        );
        let long = "x".repeat(5000) + "\nfatal: end";
        let t = tail(long.as_bytes());
        assert!(t.starts_with("...") && t.ends_with("fatal: end") && t.len() <= TAIL + 3);
    }
}
