//! Where a task's output goes: the log on disk (all of it, as it arrives), the in-memory ring
//! and the event stream, pushed together under the ring's lock. The agent's result, session
//! and (for a two-way task) requests are read from the lines on the way.

use std::sync::{Arc, Mutex};

use super::log::LogWriter;
use super::outcome::Outcome;
use crate::framer::{LineEnd, LineFramer};
use crate::model::{Event, OutputFormat, OutputLine, Stream};
use crate::protocol::{self, FromAgent};
use crate::ring::OutputRing;
use crate::table::{lock, Inner, MAX_EVENT_LINES};
use crate::transcript;

/// Reads output into the ring, the log and the event stream.
pub(super) struct Sink {
    pub(super) inner: Arc<Inner>,
    pub(super) id: crate::model::TaskId,
    pub(super) format: OutputFormat,
    /// Read the agent's requests from its output.
    pub(super) two_way: bool,
    pub(super) ring: Arc<Mutex<OutputRing>>,
    /// The log's writer thread; `None` if the log could not be opened.
    pub(super) log: Option<LogWriter>,
    /// The log's write error: no more lines go to it (the task goes on without it).
    pub(super) log_failed: Option<String>,
    /// The bytes of the lines since the last flush, for the log.
    pub(super) log_bytes: Vec<u8>,
    /// Lines handed to the log (the writer counts those of them it could not write).
    pub(super) logged: u64,
    pub(super) batch: Vec<(Stream, Arc<str>, bool)>,
    pub(super) lines: u64,
}

impl Sink {
    pub(super) fn frame(
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

    pub(super) fn line(
        &mut self,
        stream: Stream,
        bytes: &[u8],
        continued: bool,
        outcome: &mut Outcome,
    ) {
        if self.log.is_some() && self.log_failed.is_none() {
            self.log_bytes.extend_from_slice(bytes);
            self.log_bytes.push(b'\n');
            self.logged += 1;
        }
        let text: Arc<str> = Arc::from(crate::text::lossy(bytes));
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
    pub(super) fn flush(&mut self) {
        if let Some(log) = self.log.as_ref().filter(|_| self.log_failed.is_none()) {
            log.write(std::mem::take(&mut self.log_bytes));
            if let Some(e) = log.take_error() {
                self.persist_failed(format!("could not write the output log: {e}"));
                self.log_failed = Some(e);
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

    pub(super) fn note(&mut self, text: String, outcome: &mut Outcome) {
        self.line(Stream::Tasktray, text.as_bytes(), false, outcome);
        self.flush();
    }

    /// When the log's writer is far behind: waits until it caught up (the pipes are not read
    /// meanwhile, which slows the agent instead of growing memory).
    pub(super) async fn keep_up(&self) {
        if let Some(log) = self.log.as_ref().filter(|l| l.is_behind()) {
            log.caught_up().await;
        }
    }

    /// Writes what is left of the log and waits until it is on disk. If writing it failed,
    /// the gap is marked, so the log says what it misses.
    pub(super) async fn close(mut self) {
        self.flush();
        let Some(log) = self.log.take() else { return };
        let closed = log.close().await;
        if let Some(e) = &closed.error {
            self.persist_failed(format!("could not write the output log: {e}"));
        }
        if let Some(why) = closed.error.or(self.log_failed.take()) {
            // The lines the writer could not write, and those never handed to it.
            let lost = closed.lost_lines + self.lines.saturating_sub(self.logged);
            let path = self.inner.history.log_path(self.id);
            if let Err(e) = super::log::mark_gap(&path, lost, &why) {
                tracing::warn!("task {}: cannot mark the gap in its log: {e}", self.id);
            }
        }
    }

    pub(super) fn persist_failed(&self, message: String) {
        tracing::warn!("task {}: {message}", self.id);
        let _ = self.inner.events.send(Event::PersistFailed {
            task: self.id,
            message,
        });
    }
}

/// Handles one read from a pipe; returns whether the pipe is still open.
pub(super) fn pump(
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
