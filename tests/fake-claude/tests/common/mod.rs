//! Helpers for running fake-claude under a deadline: every wait here ends by a deadline, and a
//! process that outlives it is killed.

#![allow(dead_code)] // Each test binary uses a different part.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The outer timeout of every wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// How often a poll looks again.
const POLL: Duration = Duration::from_millis(5);

/// A fake-claude command with a clean environment for these tests.
pub fn fake(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fake-claude"));
    cmd.args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("FAKE_CLAUDE_RECORD")
        .env_remove("CLAUDECODE");
    cmd
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// stdout as JSON lines.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout_text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

/// Runs `cmd` to its end with `stdin` (or `/dev/null`), under [`TIMEOUT`].
pub fn run(mut cmd: Command, stdin: Option<Vec<u8>>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn fake-claude");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A broken pipe is fine: a script may not read its stdin.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = read_all(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all(child.stderr.take().expect("stderr is piped"));
    let status = wait(&mut child);
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for `child` under [`TIMEOUT`]; kills it and fails the test on timeout.
pub fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fake-claude did not exit within {TIMEOUT:?}");
        }
        thread::sleep(POLL);
    }
}

/// Polls `check` until it holds; fails the test at [`TIMEOUT`].
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(POLL);
    }
}

/// A fake-claude running with piped stdio; its stdout lines arrive on a channel. Killed (and
/// reaped) on drop, with any pids added to `also_kill`.
pub struct Live {
    pub child: Child,
    lines: Receiver<String>,
    pub also_kill: Vec<i32>,
}

impl Live {
    pub fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn fake-claude");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            also_kill: Vec::new(),
        }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("send a signal to fake-claude");
    }

    /// The next stdout line, under [`TIMEOUT`]; `None` at EOF.
    pub fn next_line(&self) -> Option<String> {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no output within {TIMEOUT:?}"),
        }
    }

    /// Reads lines until one contains `needle`, and returns it.
    pub fn line_containing(&self, needle: &str) -> String {
        loop {
            match self.next_line() {
                Some(line) if line.contains(needle) => return line,
                Some(_) => {}
                None => panic!("stdout ended before a line with {needle:?}"),
            }
        }
    }

    /// The remaining stdout lines, to EOF.
    pub fn rest(&self) -> Vec<String> {
        std::iter::from_fn(|| self.next_line()).collect()
    }

    /// Closes fake-claude's stdin.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Writes one line (and `\n`) to fake-claude's stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin still open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .expect("write to fake-claude's stdin");
    }

    /// Writes one JSON message to stdin.
    pub fn send(&mut self, message: &serde_json::Value) {
        self.send_line(&message.to_string());
    }

    /// Sends a user message.
    pub fn user(&mut self, text: &str) {
        self.send(
            &serde_json::json!({"type": "user", "message": {"role": "user", "content": text},
            "parent_tool_use_id": null, "session_id": ""}),
        );
    }

    /// The next stdout line as JSON; `None` at EOF.
    pub fn next_json(&self) -> Option<serde_json::Value> {
        self.next_line()
            .map(|line| serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")))
    }

    /// Reads JSON lines until one satisfies `pred`, and returns it; every line read is also
    /// kept in `seen`.
    pub fn until(
        &self,
        seen: &mut Vec<serde_json::Value>,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        loop {
            let Some(line) = self.next_json() else {
                panic!("stdout ended before {what}; seen: {seen:#?}")
            };
            seen.push(line.clone());
            if pred(&line) {
                return line;
            }
        }
    }
}

/// A fake-claude command in two-way mode, with `extra` arguments.
pub fn two_way(extra: &[&str]) -> Command {
    let mut args = vec![
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
    ];
    args.extend_from_slice(extra);
    fake(&args)
}

/// A new empty directory under the temp dir (canonical), for a test's files.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("fake-claude-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch dir");
    std::fs::canonicalize(&dir).expect("canonical scratch dir")
}

/// Whether any live (not zombie) process is in process group `pgid`.
pub fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state, ppid, pgrp
        fields.len() > 2 && fields[2] == pgid.to_string() && !matches!(fields[0], "Z" | "X")
    })
}

impl Drop for Live {
    fn drop(&mut self) {
        for pid in &self.also_kill {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line of `/proc/PID/status`, e.g. `SigBlk`, parsed as a hex signal mask.
pub fn proc_mask(pid: i32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))?;
    u64::from_str_radix(value.trim(), 16).ok()
}

/// Whether `pid` is gone or a zombie.
pub fn is_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// The bit of `signal` in a `/proc` signal mask.
pub fn bit(signal: Signal) -> u64 {
    1 << (signal as i32 - 1)
}
