//! Running the binaries under test: bounded waits, hidden BTF, an
//! unprivileged user, long-running tools that are interrupted with SIGINT.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a command may run before the test gives up on it (a guard
/// against hangs, not a timing assertion).
pub const HANG_GUARD: Duration = Duration::from_secs(300);

/// How long [`trigger_until_seen`] keeps triggering before giving up.
pub const SEEN_GUARD: Duration = Duration::from_secs(60);

/// The shell snippet that hides the native BTF in a private mount namespace
/// and then runs `"$0" "$@"`.
const HIDE_BTF: &str = "mount -t tmpfs none /sys/kernel/btf && exec \"$0\" \"$@\"";

/// A command that runs `program` with `/sys/kernel/btf` hidden (an empty tmpfs
/// on top of it, in a private mount namespace), so the tool must use its
/// embedded BTF. Add the program's arguments with `.arg(..)`.
pub fn hidden_btf(program: &Path) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", HIDE_BTF]).arg(program);
    cmd
}

/// `setpriv` arguments that drop to `nobody`: uid and gid 65534, no
/// supplementary groups, no inheritable capabilities.
pub const NOBODY: [&str; 5] = [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=-all",
    "--",
];

/// A command that runs `program` as `nobody` (see [`NOBODY`]). Add arguments
/// with `.arg(..)`.
pub fn as_nobody(program: &Path) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(NOBODY).arg(program);
    cmd
}

/// Runs `cmd` to completion (bounded by [`HANG_GUARD`]) and returns what it did.
#[track_caller]
pub fn run(cmd: &mut Command) -> Finished {
    Running::spawn(cmd).wait(HANG_GUARD)
}

/// A process being run, with its stdout and stderr collected in the
/// background.
pub struct Running {
    what: String,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Starts `cmd` with stdin closed and stdout/stderr captured.
    #[track_caller]
    pub fn spawn(cmd: &mut Command) -> Running {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(pipe) = child.stdout.take() {
            readers.push(collect(pipe, Arc::clone(&stdout)));
        }
        if let Some(pipe) = child.stderr.take() {
            readers.push(collect(pipe, Arc::clone(&stderr)));
        }
        Running {
            what,
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        snapshot(&self.stdout)
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        snapshot(&self.stderr)
    }

    /// Whether the process has exited already.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends SIGINT (as Ctrl-C would) and waits for the process to end.
    #[track_caller]
    pub fn interrupt(self) -> Finished {
        let pid = Pid::from_raw(i32::try_from(self.pid()).unwrap_or(i32::MAX));
        // The process may have exited on its own; `wait` reports that.
        let _ = kill(pid, Signal::SIGINT);
        self.wait(HANG_GUARD)
    }

    /// Waits for the process to end; after `limit` it is killed and the test
    /// fails with everything it printed.
    #[track_caller]
    pub fn wait(mut self, limit: Duration) -> Finished {
        let start = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let finished = self.finish(None);
                    panic!("still running after {limit:?}, killed: {finished}");
                }
                Err(e) => panic!("waiting for {}: {e}", self.what),
            }
        };
        self.finish(Some(status))
    }

    fn finish(self, status: Option<ExitStatus>) -> Finished {
        for reader in self.readers {
            let _ = reader.join();
        }
        Finished {
            what: self.what,
            status,
            stdout: snapshot(&self.stdout),
            stderr: snapshot(&self.stderr),
        }
    }
}

fn collect(mut pipe: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(chunk);
        }
    })
}

fn snapshot(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// A process that has ended, with everything it printed.
pub struct Finished {
    what: String,
    status: Option<ExitStatus>,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Finished {
    /// The exit code; `None` when it was killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// Fails the test, showing the command and its output, unless it exited
    /// with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "unexpected exit status: {self}");
        self
    }

    /// Fails the test unless it exited with 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }
}

impl fmt::Display for Finished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Some(s) => s.to_string(),
            None => "no exit status".to_string(),
        };
        write!(
            f,
            "\n--- command\n{}\n--- status\n{status}\n--- stdout\n{}\n--- stderr\n{}\n---",
            self.what, self.stdout, self.stderr
        )
    }
}

/// Calls `trigger` (e.g. runs `/bin/true`, returning its pid) over and over
/// until `seen(tool_stdout, item)` holds for one of the items it returned,
/// and returns that item. `None` when the tool exits first or nothing shows
/// up within [`SEEN_GUARD`]; the caller fails with the tool's output.
pub fn trigger_until_seen<T>(
    tool: &mut Running,
    mut trigger: impl FnMut() -> T,
    seen: impl Fn(&str, &T) -> bool,
) -> Option<T> {
    let start = Instant::now();
    let mut items = Vec::new();
    while start.elapsed() < SEEN_GUARD && !tool.has_exited() {
        items.push(trigger());
        for _ in 0..10 {
            thread::sleep(Duration::from_millis(50));
            let out = tool.stdout();
            if let Some(i) = items.iter().position(|item| seen(&out, item)) {
                return Some(items.swap_remove(i));
            }
        }
    }
    None
}
