//! Child processes: tool commands, the processes a tool leaves behind, and crashing.
//!
//! Like the real CLI's Bash tool, every child runs in its own session. A new session needs
//! `setsid()` in the child before it runs anything, which `std::process::Command` can only do
//! in an (unsafe) `pre_exec` hook; instead the binary re-runs itself in a hidden internal mode
//! (`fake-claude --fake-claude-internal ...`) that calls the safe `nix::unistd::setsid` first.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Output, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{kill, killpg, raise, SigSet, Signal};
use nix::unistd::Pid;

use crate::inbox::Inbox;

/// `argv[1]` that selects an internal mode; not part of the CLI surface.
pub(crate) const INTERNAL_FLAG: &str = "--fake-claude-internal";
/// How long `tool-child` and `daemon` processes sleep: longer than any test.
const LEFT_BEHIND_SECS: &str = "600";
/// The line a sleeper writes once it is in its own session with its signals set.
const READY: &str = "ready";
/// How long an interrupted tool may take to be reaped once killed.
const REAP_GRACE: Duration = Duration::from_secs(2);

/// The pid (and process group) of the running `tool` command, 0 when none runs.
static RUNNING_TOOL: AtomicI32 = AtomicI32::new(0);

/// What a tool call printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolOutput {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) success: bool,
    pub(crate) code: Option<i32>,
}

impl ToolOutput {
    /// A tool that could not be started.
    pub(crate) fn failed(err: &io::Error) -> Self {
        Self {
            stdout: String::new(),
            stderr: format!("fake-claude: cannot run the tool: {err}"),
            success: false,
            code: None,
        }
    }

    /// The `tool_result` content: stdout, or for a failure the exit code and both streams.
    pub(crate) fn content(&self) -> String {
        if self.success {
            return self.stdout.trim_end_matches('\n').to_owned();
        }
        let status = match self.code {
            Some(code) => format!("Exit code {code}"),
            None => "Killed by a signal".to_owned(),
        };
        let output = format!("{}{}", self.stdout, self.stderr);
        format!("Error: {status}\n{}", output.trim_end_matches('\n'))
            .trim_end()
            .to_owned()
    }
}

/// Which process a sleeper plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sleeper {
    /// `tool-child`: ignores SIGTERM.
    ToolChild,
    /// `daemon`: dies on SIGTERM.
    Daemon,
}

impl Sleeper {
    fn mode(self) -> &'static str {
        match self {
            Sleeper::ToolChild => "ignore-term",
            Sleeper::Daemon => "honour-term",
        }
    }
}

fn internal(mode: &str) -> io::Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([INTERNAL_FLAG, mode]);
    Ok(cmd)
}

/// How a tool call ended.
#[derive(Debug)]
pub(crate) enum Ran {
    Done(ToolOutput),
    /// An interrupt came first: the tool's process group was killed.
    Interrupted,
}

/// Runs `sh -c CMD` in the current directory, in its own session, and captures its output. An
/// interrupt in `inbox` stops it: its whole process group is killed (and reaped, within a grace
/// period) before this returns.
pub(crate) fn run_tool(command: &str, inbox: &Arc<Inbox>) -> io::Result<Ran> {
    let child = internal("setsid-exec")?
        .args(["sh", "-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    RUNNING_TOOL.store(pid.as_raw(), Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let waker = Arc::clone(inbox);
    std::thread::Builder::new()
        .name("tool".to_owned())
        .spawn(move || {
            let output = child.wait_with_output();
            let _ =
                RUNNING_TOOL.compare_exchange(pid.as_raw(), 0, Ordering::SeqCst, Ordering::SeqCst);
            let _ = tx.send(output);
            waker.poke();
        })?;
    let ended = inbox.wait_until(None, |state| match rx.try_recv() {
        Ok(output) => Some(Some(output)),
        Err(_) if !state.interrupts.is_empty() => Some(None),
        Err(_) => None,
    });
    match ended.flatten() {
        Some(output) => output.map(|output| Ran::Done(tool_output(&output))),
        None => {
            kill_group(pid);
            let deadline = Instant::now() + REAP_GRACE;
            let _ = rx.recv_timeout(REAP_GRACE);
            // Its other processes (children of the shell, now orphans) die on their own time.
            while group_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(Ran::Interrupted)
        }
    }
}

/// Kills the running `tool` command's process group, if one runs.
pub(crate) fn kill_running_tool() {
    let pid = RUNNING_TOOL.swap(0, Ordering::SeqCst);
    if pid > 0 {
        kill_group(Pid::from_raw(pid));
    }
}

/// Whether a process of group `pgid` is still alive (not a zombie), from `/proc`.
fn group_alive(pgid: Pid) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    let pgid = pgid.as_raw().to_string();
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // After the parenthesised command name: state, ppid, pgrp, ...
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .map_or_else(Vec::new, |(_, rest)| rest.split_whitespace().collect());
        fields.len() > 2 && fields[2] == pgid && !matches!(fields[0], "Z" | "X")
    })
}

fn kill_group(pid: Pid) {
    // The tool leads its own session, so its group id is its pid; before its setsid() it is
    // only a process of ours.
    let _ = killpg(pid, Signal::SIGKILL);
    let _ = kill(pid, Signal::SIGKILL);
}

fn tool_output(output: &Output) -> ToolOutput {
    ToolOutput {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        success: output.status.success(),
        code: output.status.code(),
    }
}

/// Starts a sleeper in its own session and returns its pid once it is set up. It is never
/// waited for: it outlives this process, as the real CLI's tool processes do.
pub(crate) fn spawn_sleeper(kind: Sleeper) -> io::Result<u32> {
    let mut child = internal("sleeper")?
        .args([kind.mode(), LEFT_BEHIND_SECS])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout).read_line(&mut line)?;
    }
    if line.trim_end() != READY {
        return Err(io::Error::other(format!(
            "sleeper {pid} did not start (said {line:?})"
        )));
    }
    Ok(pid)
}

/// Raises `signal` with its default action and no core dump. Returns if the process survives
/// it (a stop signal, once continued).
pub(crate) fn crash(signal: Signal) {
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = SigSet::from(signal).thread_unblock();
    let _ = raise(signal);
    if matches!(signal, Signal::SIGSEGV | Signal::SIGBUS) {
        // The Rust runtime catches these two to report stack overflows; for any other fault its
        // handler restores the default action and returns, so the second one is fatal.
        let _ = raise(signal);
    }
}

/// The hidden internal modes:
/// - `setsid-exec PROG ARGS...`: become a session leader, then exec PROG.
/// - `sleeper ignore-term|honour-term SECS`: become a session leader, ignore SIGTERM or not,
///   say `ready` on stdout (a pipe to the parent only), sleep.
pub(crate) fn internal_main(args: &[String]) -> ExitCode {
    // A spawned child inherits the parent's signal mask (SIGINT and SIGTERM are blocked there,
    // see `signals`): start from an empty one.
    let _ = SigSet::empty().thread_set_mask();
    match args {
        [mode, prog, rest @ ..] if mode == "setsid-exec" => {
            let _ = nix::unistd::setsid();
            let err = Command::new(prog).args(rest).exec();
            let _ = writeln!(io::stderr(), "fake-claude: cannot run {prog}: {err}");
            ExitCode::from(127)
        }
        [mode, term, secs] if mode == "sleeper" => {
            let _ = nix::unistd::setsid();
            if term == "ignore-term" {
                // Blocked and never waited for, SIGTERM stays pending: ignored.
                let _ = SigSet::from(Signal::SIGTERM).thread_block();
            }
            {
                let mut stdout = io::stdout().lock();
                let _ = writeln!(stdout, "{READY}");
                let _ = stdout.flush();
            }
            let secs = secs.parse().unwrap_or(600.0);
            std::thread::sleep(Duration::from_secs_f64(secs));
            ExitCode::SUCCESS
        }
        _ => {
            let _ = writeln!(io::stderr(), "fake-claude: bad internal mode {args:?}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_content() {
        let ok = ToolOutput {
            stdout: "hi\n".into(),
            stderr: "warn\n".into(),
            success: true,
            code: Some(0),
        };
        assert_eq!(ok.content(), "hi");
        let failed = ToolOutput {
            success: false,
            code: Some(2),
            ..ok
        };
        assert_eq!(failed.content(), "Error: Exit code 2\nhi\nwarn");
    }
}
