//! One task's life, owned by one tokio task: start the shim, read its output, stop it on
//! cancel, and record how it ended. Nothing else touches the task's processes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::config::SupervisorConfig;
use crate::conversation::{Control, Conversation, Line, Notes};
use crate::framer::{LineEnd, LineFramer};
use crate::lock::ProjectLock;
use crate::model::{
    Event, ExitInfo, OutputFormat, OutputLine, ResultSummary, Stream, TaskRecord, TaskStatus,
};
use crate::procfs;
use crate::protocol::{self, FromAgent};
use crate::ring::OutputRing;
use crate::shim::AgentInput;
use crate::supervisor::{lock, Inner, MARKER_ENV, MAX_EVENT_LINES};
use crate::{report, shim, transcript};
use command_fds::{CommandFdExt, FdMapping};
use tokio::sync::mpsc;

/// Bytes read from stdout at once; most output arrives there.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes read from stderr at once.
const READ_CHUNK_STDERR: usize = 16 * 1024;
/// The stdout pipe's capacity, raised from Linux's 64 KiB so a fast agent blocks less often
/// (1 MiB is the default `pipe-max-size` for unprivileged processes).
const PIPE_CAPACITY: i32 = 1024 * 1024;

/// Time the shim gets beyond the grace period to finish its own stop before it is killed.
const SHIM_MARGIN: Duration = Duration::from_secs(2);

/// After the shim exits, how long to keep reading pipes that a process which escaped the
/// tree still holds open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

pub(crate) struct Run {
    pub(crate) inner: Arc<Inner>,
    /// The settings this task started with.
    pub(crate) config: SupervisorConfig,
    pub(crate) record: TaskRecord,
    pub(crate) agent: PathBuf,
    pub(crate) args: Vec<std::ffi::OsString>,
    pub(crate) stdin: AgentInput,
    /// A two-way task's line to the hosts, and the runner's end of it.
    pub(crate) line: Option<Line>,
    pub(crate) control: Option<mpsc::Receiver<Control>>,
    /// Held for the whole run; dropped after the final record is saved.
    pub(crate) lock: ProjectLock,
    pub(crate) ring: Arc<Mutex<OutputRing>>,
    pub(crate) cancel: CancellationToken,
    pub(crate) done: watch::Sender<bool>,
}

/// What the run found out, turned into the final status by [`Outcome::status`].
#[derive(Default)]
struct Outcome {
    exit: Option<ExitInfo>,
    cancelled: bool,
    /// An internal failure (the shim could not start).
    error: Option<String>,
    result: Option<ResultSummary>,
    session_id: Option<String>,
    /// The last line on stderr, to explain a failure without a result line.
    last_stderr: Option<Arc<str>>,
    /// The last line on stdout, for a text-format task: there claude prints its errors to
    /// stdout, and its whole answer is the error.
    last_stdout: Option<Arc<str>>,
    /// What the agent said to the host that the conversation has not handled yet, in order
    /// (two-way tasks).
    requests: Vec<FromAgent>,
    /// The user stopped the last turn and gave no new instruction.
    stopped_by_user: bool,
}

impl Outcome {
    fn status(&self) -> TaskStatus {
        if self.cancelled || self.stopped_by_user {
            TaskStatus::Cancelled
        } else if self.error.is_some() {
            TaskStatus::Failed
        } else if let Some(result) = &self.result {
            if result.is_error {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            }
        } else if self.exit == Some(ExitInfo::Code(0)) {
            TaskStatus::Completed
        } else {
            TaskStatus::Failed
        }
    }

    fn failure_reason(&self) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        if let Some(result) = self.result.as_ref().filter(|r| r.is_error) {
            if !result.text.trim().is_empty() {
                return result.text.clone();
            }
            if let Some(line) = &self.last_stderr {
                return line.to_string();
            }
        }
        let exit = match self.exit {
            Some(ExitInfo::Code(code)) => format!("The agent exited with code {code}"),
            Some(ExitInfo::Signal(sig)) => format!("The agent was killed by signal {sig}"),
            None => "The agent's exit status is unknown".to_owned(),
        };
        match self.last_stderr.as_ref().or(self.last_stdout.as_ref()) {
            Some(line) => match fix_for(line) {
                // One line: notes go into the line-numbered log.
                Some(fix) => format!("{exit}: {line}. {fix}"),
                None => format!("{exit}: {line}"),
            },
            None => format!("{exit}."),
        }
    }
}

/// What to do about an agent's refusal that Tasktray recognises.
fn fix_for(line: &str) -> Option<&'static str> {
    if line.contains("cannot be used with root/sudo privileges") {
        return Some(
            "Claude Code refuses the Bypass permissions mode when it runs as root. Choose \
             another permission mode (\"Ask me\" lets you approve each tool), or run Tasktray \
             as a regular user.",
        );
    }
    None
}

/// Reads output into the ring, the log and the event stream.
struct Sink {
    inner: Arc<Inner>,
    id: crate::model::TaskId,
    format: OutputFormat,
    /// Read the agent's requests from its output.
    two_way: bool,
    ring: Arc<Mutex<OutputRing>>,
    log: Option<BufWriter<File>>,
    batch: Vec<(Stream, Arc<str>, bool)>,
    lines: u64,
}

impl Sink {
    fn frame(
        &mut self,
        stream: Stream,
        framer: &mut LineFramer,
        chunk: Option<&[u8]>,
        outcome: &mut Outcome,
    ) {
        let mut emit = |bytes: &[u8], end: LineEnd| {
            self.line(stream, bytes, end == LineEnd::Continued, outcome);
        };
        match chunk {
            Some(chunk) => framer.push(chunk, &mut emit),
            None => framer.finish(&mut emit),
        }
        self.flush();
    }

    fn line(&mut self, stream: Stream, bytes: &[u8], continued: bool, outcome: &mut Outcome) {
        if let Some(log) = &mut self.log {
            let written = log.write_all(bytes).and_then(|()| log.write_all(b"\n"));
            if let Err(e) = written {
                self.log = None;
                self.persist_failed(format!("could not write the output log: {e}"));
            }
        }
        let text: Arc<str> = Arc::from(String::from_utf8_lossy(bytes));
        if stream == Stream::Stdout && self.format == OutputFormat::StreamJson && !continued {
            if let Some(result) = transcript::result_of(&text) {
                outcome.session_id = result.session_id.clone().or(outcome.session_id.take());
                outcome.result = Some(result);
                if self.two_way {
                    outcome.requests.push(FromAgent::TurnEnded);
                }
            } else if let Some(request) =
                self.two_way.then(|| protocol::from_agent(&text)).flatten()
            {
                outcome.requests.push(request);
            } else if outcome.session_id.is_none() {
                outcome.session_id = transcript::session_of_init(&text);
            }
        }
        if !text.trim().is_empty() {
            match stream {
                Stream::Stderr => outcome.last_stderr = Some(text.clone()),
                Stream::Stdout if self.format == OutputFormat::Text => {
                    outcome.last_stdout = Some(text.clone());
                }
                _ => {}
            }
        }
        self.batch.push((stream, text, continued));
    }

    /// Pushes the batch into the ring and out to subscribers under one lock, so an
    /// [`attach`](crate::Supervisor::attach) sees each line exactly once.
    fn flush(&mut self) {
        if let Some(log) = &mut self.log {
            if let Err(e) = log.flush() {
                self.log = None;
                self.persist_failed(format!("could not write the output log: {e}"));
            }
        }
        if self.batch.is_empty() {
            return;
        }
        self.lines += self.batch.len() as u64;
        let mut ring = lock(&self.ring);
        let mut batch = self.batch.drain(..).peekable();
        while batch.peek().is_some() {
            let lines: Arc<[OutputLine]> = batch
                .by_ref()
                .take(MAX_EVENT_LINES)
                .map(|(stream, text, continued)| ring.push(stream, text, continued))
                .collect();
            let _ = self.inner.events.send(Event::Output {
                task: self.id,
                lines,
            });
        }
    }

    fn note(&mut self, text: String, outcome: &mut Outcome) {
        self.line(Stream::Tasktray, text.as_bytes(), false, outcome);
        self.flush();
    }

    fn persist_failed(&self, message: String) {
        tracing::warn!("task {}: {message}", self.id);
        let _ = self.inner.events.send(Event::PersistFailed {
            task: self.id,
            message,
        });
    }
}

/// SIGKILLs what is left of a task if its runner is dropped without reaping it (a panic, the
/// runtime going away). Disarmed once the shim is reaped.
struct KillGuard {
    pgid: Option<i32>,
    marker: std::ffi::OsString,
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            procfs::signal_all(&procfs::marked(MARKER_ENV, &self.marker), Signal::SIGKILL);
        }
    }
}

impl Run {
    pub(crate) async fn run(mut self) {
        let inner = self.inner.clone();
        let record = self.record.clone();
        let id = record.id;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(inner.history.log_path(id))
            .map(|f| BufWriter::with_capacity(READ_CHUNK, f));
        let mut sink = Sink {
            inner: inner.clone(),
            id,
            format: record.options.format,
            two_way: self.line.is_some(),
            ring: self.ring.clone(),
            log: None,
            batch: Vec::new(),
            lines: 0,
        };
        match log {
            Ok(log) => sink.log = Some(log),
            Err(e) => sink.persist_failed(format!("could not open the output log: {e}")),
        }
        let mut outcome = Outcome::default();
        self.execute(&mut sink, &mut outcome).await;

        if let (Some(parent), Some(result)) = (record.follow_up_of, outcome.result.as_mut()) {
            // The agent reports a resumed session's total; the task's own cost is the growth.
            let before = inner
                .record(parent)
                .and_then(|p| p.result)
                .and_then(|r| r.session_cost_usd.or(r.cost_usd));
            if let (Some(total), Some(before)) = (result.session_cost_usd, before) {
                result.cost_usd = Some((total - before).max(0.0));
            }
        }
        let status = outcome.status();
        if status == TaskStatus::Failed && outcome.error.is_none() && outcome.result.is_none() {
            sink.note(
                format!("[tasktray] {}", outcome.failure_reason()),
                &mut Outcome::default(),
            );
        }
        let now = inner.clock.now_ms();
        let lines = sink.lines;
        let finished = inner.update(id, |r| {
            r.status = status;
            r.finished_at_ms = Some(now);
            r.started_at_ms.get_or_insert(now);
            r.exit = outcome.exit;
            r.error = outcome.error.clone();
            r.failure = (status == TaskStatus::Failed).then(|| outcome.failure_reason());
            r.session_id = outcome.session_id.clone().or(r.session_id.take());
            r.result = outcome.result.clone();
            r.line_count = lines;
        });
        drop(sink);
        if let Some(finished) = finished {
            inner.persist(&finished);
            let writer = inner.clone();
            // Closed only on drop, so acquiring cannot fail; were it to, write anyway.
            let _turn = inner.transcripts.acquire().await;
            let written =
                tokio::task::spawn_blocking(move || report::write(&writer.history, &finished))
                    .await;
            match written {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!("task {id}: {e}");
                    let _ = inner.events.send(Event::PersistFailed {
                        task: id,
                        message: e.to_string(),
                    });
                }
                Err(e) => tracing::warn!("task {id}: transcript writer failed: {e}"),
            }
        }
        drop(self.lock);
        let event = match status {
            TaskStatus::Completed => Event::Completed { task: id },
            TaskStatus::Cancelled => Event::Cancelled { task: id },
            _ => Event::Failed {
                task: id,
                reason: outcome.failure_reason(),
            },
        };
        tracing::info!("task {id} {status}");
        let _ = inner.events.send(event);
        let _ = self.done.send(true);
    }
}

impl Run {
    /// Starts the shim and pumps its output until it has exited and its pipes are drained.
    async fn execute(&mut self, sink: &mut Sink, outcome: &mut Outcome) {
        let id = self.record.id;
        // The lifeline: the shim's stdin is the read end; the write end lives as long as this
        // runner. If the host dies, the shim reads EOF and stops the tree.
        let (lifeline_read, lifeline_write) = match nix::unistd::pipe2(OFlag::O_CLOEXEC) {
            Ok(pair) => pair,
            Err(e) => {
                return fail_to_start(
                    sink,
                    outcome,
                    format!("could not create the lifeline pipe: {e}"),
                )
            }
        };
        // A two-way task's input: the shim passes the read end to the agent as its stdin.
        let input = match self.stdin {
            AgentInput::Pipe => match nix::unistd::pipe2(OFlag::O_CLOEXEC) {
                Ok(pair) => Some(pair),
                Err(e) => {
                    return fail_to_start(
                        sink,
                        outcome,
                        format!("could not create the agent's input pipe: {e}"),
                    )
                }
            },
            _ => None,
        };
        let (config, record, agent, args) = (&self.config, &self.record, &self.agent, &self.args);
        let marker = self.inner.marker(id);
        let mut command = tokio::process::Command::new(&config.shim.program);
        command
            .args(shim::shim_args(config.grace, &self.stdin))
            .arg(agent)
            .args(args)
            .current_dir(&record.project_dir)
            .env_remove("CLAUDECODE")
            .env(MARKER_ENV, &marker)
            .envs(config.extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::from(lifeline_read))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        let input_writer = match input {
            Some((read, write)) => {
                let mapped = command.fd_mappings(vec![FdMapping {
                    parent_fd: read,
                    child_fd: shim::INPUT_FD,
                }]);
                let writer = mapped.map_err(|e| e.to_string()).and_then(|_| {
                    tokio::net::unix::pipe::Sender::from_owned_fd(write).map_err(|e| e.to_string())
                });
                match writer {
                    Ok(writer) => Some(writer),
                    Err(e) => {
                        return fail_to_start(
                            sink,
                            outcome,
                            format!("could not set up the agent's input: {e}"),
                        )
                    }
                }
            }
            None => None,
        };
        let extra_env_names: Vec<_> = config.extra_env.iter().map(|(k, _)| k).collect();
        tracing::debug!(task = %id, shim = %config.shim.program.display(), agent = %agent.display(), ?args, cwd = %record.project_dir.display(), ?extra_env_names, two_way = input_writer.is_some(), "starting");
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let reason = if record.project_dir.is_dir() {
                    format!("could not start the task: {e}")
                } else {
                    format!(
                        "the project folder {} is gone",
                        record.project_dir.display()
                    )
                };
                return fail_to_start(sink, outcome, reason);
            }
        };
        // Closes this process's copies of the child's ends (the input pipe's read end above
        // all: the agent must be its only reader).
        drop(command);
        let shim_pid = child.id().map(|p| p as i32);
        let mut guard = KillGuard {
            pgid: shim_pid,
            marker,
        };
        let now = config.clock.now_ms();
        let shim_ref = shim_pid.and_then(procfs::process_ref);
        if let Some(running) = self.inner.update(id, |r| {
            r.status = TaskStatus::Running;
            r.started_at_ms = Some(now);
            r.shim = shim_ref;
        }) {
            self.inner.persist(&running);
        }
        let _ = self
            .inner
            .events
            .send(crate::model::Event::Started { task: id });
        let mut talk = match (input_writer, &self.line) {
            (Some(writer), Some(line)) => Some(Conversation::start(
                self.inner.clone(),
                record,
                writer,
                config.approval_timeout,
                line.accepting.clone(),
            )),
            _ => None,
        };
        let mut control = self.control.take();

        let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take())
        else {
            outcome.error = Some("the task's output pipes are missing".into());
            return;
        };
        if let Err(e) =
            nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_CAPACITY))
        {
            tracing::debug!("task {id}: pipe size unchanged: {e}");
        }
        let mut out_framer = LineFramer::new(config.max_line_bytes);
        let mut err_framer = LineFramer::new(config.max_line_bytes);
        let mut out_buf = vec![0u8; READ_CHUNK];
        let mut err_buf = vec![0u8; READ_CHUNK_STDERR];
        let (mut out_open, mut err_open) = (true, true);
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut kill_at = far;
        let mut drain_until = far;
        let mut killed = false;
        let cancel = self.cancel.clone();
        let grace = config.grace;

        loop {
            if !out_open && !err_open && outcome.exit.is_some() {
                break;
            }
            let mut notes = Vec::new();
            let deadline = talk
                .as_ref()
                .and_then(Conversation::next_deadline)
                .unwrap_or(far);
            // Every branch is cancel-safe: `read` on a pipe, `wait` on a child and `recv` on a
            // channel lose nothing when another branch wins, and the token and timers can be
            // polled again.
            tokio::select! {
                biased;
                () = cancel.cancelled(), if !outcome.cancelled && outcome.exit.is_none() => {
                    outcome.cancelled = true;
                    if let Some(pid) = shim_pid {
                        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                    }
                    if let Some(talk) = talk.as_mut() {
                        talk.withdraw_all(&mut notes);
                    }
                    kill_at = Instant::now() + grace + SHIM_MARGIN;
                }
                () = sleep_until(kill_at), if !killed && outcome.exit.is_none() => {
                    killed = true;
                    tracing::warn!("task {id}: the shim did not stop in time, killing the tree");
                    if let Some(pgid) = guard.pgid {
                        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
                    }
                    procfs::signal_all(&procfs::marked(MARKER_ENV, &guard.marker), Signal::SIGKILL);
                }
                read = stdout.read(&mut out_buf), if out_open => {
                    out_open = pump(read, &out_buf, Stream::Stdout, &mut out_framer, sink, outcome);
                }
                read = stderr.read(&mut err_buf), if err_open => {
                    err_open = pump(read, &err_buf, Stream::Stderr, &mut err_framer, sink, outcome);
                }
                message = recv(&mut control) => match (message, talk.as_mut()) {
                    (Some(message), Some(talk)) => talk.on_control(message, &mut notes),
                    _ => control = None,
                },
                () = sleep_until(deadline), if talk.is_some() && outcome.exit.is_none() => {
                    if let Some(talk) = talk.as_mut() {
                        talk.on_deadline(&mut notes);
                    }
                }
                status = child.wait(), if outcome.exit.is_none() => {
                    guard.pgid = None;
                    outcome.exit = Some(match status {
                        Ok(s) => s.code().map_or_else(|| ExitInfo::Signal(s.signal().unwrap_or(0)), ExitInfo::Code),
                        Err(e) => {
                            tracing::warn!("task {id}: waiting for the shim failed: {e}");
                            ExitInfo::Code(-1)
                        }
                    });
                    drain_until = Instant::now() + DRAIN_AFTER_EXIT;
                    if let Some(talk) = talk.as_mut() {
                        outcome.stopped_by_user = talk.stopped_by_user() && !outcome.cancelled;
                        talk.end(&mut notes);
                    }
                    control = None;
                }
                () = sleep_until(drain_until), if outcome.exit.is_some() => {
                    tracing::warn!("task {id}: output pipes still open after exit; a process escaped the tree");
                    for (open, framer, stream) in [(&mut out_open, &mut out_framer, Stream::Stdout), (&mut err_open, &mut err_framer, Stream::Stderr)] {
                        if *open {
                            sink.frame(stream, framer, None, outcome);
                            *open = false;
                        }
                    }
                }
            }
            if let Some(talk) = talk.as_mut() {
                converse(talk, sink, outcome, &mut notes);
            }
            for note in notes {
                sink.note(note, outcome);
            }
        }
        drop(lifeline_write);
    }
}

/// Hands what the agent wrote to the conversation, and lets it close the agent's input once
/// the task is over.
fn converse(talk: &mut Conversation, sink: &mut Sink, outcome: &mut Outcome, notes: &mut Notes) {
    // Most reads carry only output: nothing for the conversation (this runs per read).
    if outcome.requests.is_empty() && notes.is_empty() {
        return;
    }
    for request in std::mem::take(&mut outcome.requests) {
        talk.on_request(request, notes);
    }
    if outcome.exit.is_none() && !outcome.cancelled && talk.close_if_done() {
        tracing::debug!(
            "task {}: nothing more to say; closing the agent's input",
            sink.id
        );
    }
    talk.update_status();
}

/// The next message from the hosts; pending forever once there is no channel (a text task, or
/// the task is ending).
async fn recv(control: &mut Option<mpsc::Receiver<Control>>) -> Option<Control> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Records why the task could not start: an internal failure, shown in its output.
fn fail_to_start(sink: &mut Sink, outcome: &mut Outcome, reason: String) {
    sink.note(format!("[tasktray] {reason}"), outcome);
    outcome.error = Some(reason);
}

/// Handles one read from a pipe; returns whether the pipe is still open.
fn pump(
    read: std::io::Result<usize>,
    buf: &[u8],
    stream: Stream,
    framer: &mut LineFramer,
    sink: &mut Sink,
    outcome: &mut Outcome,
) -> bool {
    match read {
        Ok(0) | Err(_) => {
            sink.frame(stream, framer, None, outcome);
            false
        }
        Ok(n) => {
            sink.frame(stream, framer, Some(&buf[..n]), outcome);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(is_error: bool) -> Option<ResultSummary> {
        Some(ResultSummary {
            is_error,
            text: "r".into(),
            ..ResultSummary::default()
        })
    }

    #[test]
    fn status_rules() {
        let status = |o: Outcome| o.status();
        // The result line decides, whatever the exit code.
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(1)),
                result: result(false),
                ..Outcome::default()
            }),
            TaskStatus::Completed
        );
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(0)),
                result: result(true),
                ..Outcome::default()
            }),
            TaskStatus::Failed
        );
        // Without one, the exit status does.
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(0)),
                ..Outcome::default()
            }),
            TaskStatus::Completed
        );
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Signal(9)),
                ..Outcome::default()
            }),
            TaskStatus::Failed
        );
        // A cancel wins over everything (claude exits 0 after SIGINT).
        assert_eq!(
            status(Outcome {
                cancelled: true,
                exit: Some(ExitInfo::Code(0)),
                result: result(true),
                ..Outcome::default()
            }),
            TaskStatus::Cancelled
        );
        let failed = Outcome {
            exit: Some(ExitInfo::Code(127)),
            last_stderr: Some(Arc::from("no such file")),
            ..Outcome::default()
        };
        assert_eq!(
            failed.failure_reason(),
            "The agent exited with code 127: no such file"
        );
        let as_root = Outcome {
            exit: Some(ExitInfo::Code(1)),
            last_stderr: Some(Arc::from(
                "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
            )),
            ..Outcome::default()
        };
        let reason = as_root.failure_reason();
        assert!(
            reason.contains("for security reasons. Claude Code refuses"),
            "{reason}"
        );
        assert!(reason.contains("\"Ask me\""), "{reason}");
    }
}
