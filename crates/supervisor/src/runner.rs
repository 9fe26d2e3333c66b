//! One task's life, owned by one tokio task: start the shim, read its output, stop it on
//! cancel, and record how it ended. Nothing else touches the task's processes.

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
use crate::framer::LineFramer;
use crate::lock::ProjectLock;
use crate::model::{Event, ExitInfo, Stream, TaskRecord, TaskStatus};
use crate::procfs;
use crate::ring::OutputRing;
use crate::shim::AgentInput;
use crate::table::{Inner, MARKER_ENV};
use crate::{report, shim};
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

mod log;
mod outcome;
mod sink;

use log::LogWriter;
use outcome::Outcome;
use sink::{pump, Sink};

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
        let log = LogWriter::open(&inner.history.log_path(id));
        let mut sink = Sink {
            inner: inner.clone(),
            id,
            format: record.options.format,
            two_way: self.line.is_some(),
            ring: self.ring.clone(),
            log: None,
            log_failed: None,
            log_bytes: Vec::new(),
            logged: 0,
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
        // Whatever the agent left uncommitted in its worktree goes onto the task's branch, so
        // nothing is lost whatever comes next; done before anyone sees the task end.
        let mut worktree_note = None;
        if let Some(worktree) = record.worktree.clone() {
            let message = crate::review::commit_message(&record);
            let committed = tokio::task::spawn_blocking(move || {
                crate::worktree::commit_leftovers(&worktree, &message)
            })
            .await
            .unwrap_or_else(|e| {
                Err(crate::Error::Git {
                    action: "commit the task's changes".into(),
                    message: e.to_string(),
                })
            });
            // A commit shows in the review; only a failure is worth a line in the output.
            if let Err(e) = committed {
                let note = format!("{e}; the changes are still in the worktree");
                sink.note(format!("[tasktray] {note}"), &mut Outcome::default());
                worktree_note = Some(note);
            }
        }
        let now = inner.clock.now_ms();
        let lines = sink.lines;
        // The project is free before anyone can see the task ended: a spawn right after
        // "completed" never meets this very task in the way.
        drop(self.lock);
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
            if let Some(w) = r.worktree.as_mut() {
                w.note = worktree_note.clone();
            }
        });
        // The transcript is made from the log: it must be whole on disk first.
        sink.close().await;
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
        inner.keep_ring(id);
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
            .current_dir(record.work_dir())
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
        // Names of the extra variables only, and the prompt by its length: logs are not private.
        let extra_env_names: Vec<_> = config.extra_env.iter().map(|(k, _)| k).collect();
        let shown_args: Vec<String> = args
            .iter()
            .map(|a| match a.to_str() {
                Some(a) if a == record.prompt => format!("<the prompt, {} bytes>", a.len()),
                _ => a.to_string_lossy().into_owned(),
            })
            .collect();
        tracing::debug!(task = %id, shim = %config.shim.program.display(), agent = %agent.display(), args = ?shown_args, cwd = %record.work_dir().display(), ?extra_env_names, two_way = input_writer.is_some(), "starting");
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let reason = if record.work_dir().is_dir() {
                    format!("could not start the task: {e}")
                } else {
                    format!("the project folder {} is gone", record.work_dir().display())
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
            sink.keep_up().await;
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
