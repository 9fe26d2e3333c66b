//! Turns the supervisor's events into webview events: lifecycle changes at once (and the tray
//! and notifications with them), output in batches per task, at most every
//! [`BATCH_INTERVAL`]. When the window falls behind, it gets a resync instead of a gap.

use std::collections::HashMap;
use std::time::Duration;

use supervisor::{Event, OutputFormat, OutputLine, Supervisor, TaskId};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{sleep_until, Instant};

use crate::models::{events, ChangeKind, LineView, TaskChanged, TaskOutput, TaskResync};
use crate::state::AppState;
use crate::{notify, tray};

/// Output of a task is sent at most this often (≤ 20 events per second per task).
pub const BATCH_INTERVAL: Duration = Duration::from_millis(50);
/// Lines one task may queue between two flushes; past it, the batch is dropped and the
/// window re-reads the task's output instead (it only shows the tail anyway).
pub const MAX_BATCH_LINES: usize = 2000;

pub fn start(app: AppHandle, supervisor: Supervisor) {
    // Subscribed here, before this returns: the host may then let queued tasks start.
    let events = supervisor.subscribe();
    tauri::async_runtime::spawn(async move {
        Forwarder {
            app,
            supervisor,
            pending: Batches::default(),
            formats: HashMap::new(),
        }
        .run(events)
        .await;
    });
}

struct Forwarder {
    app: AppHandle,
    supervisor: Supervisor,
    pending: Batches,
    formats: HashMap<TaskId, OutputFormat>,
}

/// What goes out for one task at the next flush.
#[derive(Debug, PartialEq)]
pub enum Batch {
    Lines(Vec<OutputLine>),
    /// Too much arrived, or some was lost: the window re-reads the task's output.
    Resync,
}

/// Output waiting for the next flush, per task, each bounded by [`MAX_BATCH_LINES`].
#[derive(Debug, Default)]
pub struct Batches {
    pending: HashMap<TaskId, Batch>,
}

impl Batches {
    pub fn push(&mut self, task: TaskId, new: &[OutputLine]) {
        let batch = self
            .pending
            .entry(task)
            .or_insert_with(|| Batch::Lines(Vec::new()));
        if let Batch::Lines(lines) = batch {
            if lines.len() + new.len() > MAX_BATCH_LINES {
                *batch = Batch::Resync;
            } else {
                lines.extend_from_slice(new);
            }
        }
    }

    pub fn resync(&mut self, task: TaskId) {
        self.pending.insert(task, Batch::Resync);
    }

    pub fn take(&mut self, task: TaskId) -> Option<Batch> {
        self.pending.remove(&task)
    }

    pub fn take_all(&mut self) -> Vec<(TaskId, Batch)> {
        self.pending.drain().collect()
    }
}

impl Forwarder {
    async fn run(mut self, mut events: tokio::sync::broadcast::Receiver<Event>) {
        // Only armed while something waits to be sent, so an idle app sleeps.
        let mut flush_at: Option<Instant> = None;
        loop {
            let deadline = flush_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                // `recv` and `sleep_until` are cancel-safe: losing the race loses nothing.
                event = events.recv() => match event {
                    Ok(Event::Output { task, lines }) => {
                        self.pending.push(task, &lines);
                        flush_at.get_or_insert_with(|| Instant::now() + BATCH_INTERVAL);
                    }
                    Ok(event) => self.lifecycle(event),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!("forwarder lagged by {missed} events: resync");
                        for task in self.supervisor.running() {
                            self.pending.resync(task.id);
                        }
                        flush_at.get_or_insert_with(Instant::now);
                    }
                    Err(RecvError::Closed) => break,
                },
                () = sleep_until(deadline), if flush_at.is_some() => {
                    self.flush_all();
                    flush_at = None;
                }
            }
        }
    }

    fn format(&mut self, task: TaskId) -> OutputFormat {
        let supervisor = &self.supervisor;
        *self.formats.entry(task).or_insert_with(|| {
            supervisor
                .get(task)
                .map(|t| t.options.format)
                .unwrap_or_default()
        })
    }

    fn flush_all(&mut self) {
        for (task, batch) in self.pending.take_all() {
            self.flush(task, batch);
        }
    }

    fn flush(&mut self, task: TaskId, batch: Batch) {
        let sent = match batch {
            Batch::Lines(lines) if lines.is_empty() => return,
            Batch::Lines(lines) => {
                let format = self.format(task);
                let lines = lines.iter().map(|l| LineView::new(l, format)).collect();
                self.app
                    .emit(events::TASK_OUTPUT, TaskOutput { id: task, lines })
            }
            Batch::Resync => self.app.emit(events::TASK_RESYNC, TaskResync { id: task }),
        };
        if let Err(e) = sent {
            tracing::warn!("cannot send output of task {task} to the window: {e}");
        }
    }

    fn lifecycle(&mut self, event: Event) {
        let task = event.task();
        // The task's last lines go out before the news that it ended.
        if let Some(batch) = self.pending.take(task) {
            self.flush(task, batch);
        }
        let (kind, message) = match &event {
            Event::Spawned { .. } => (ChangeKind::Spawned, None),
            Event::Started { .. } => (ChangeKind::Started, None),
            Event::Completed { .. } => (ChangeKind::Completed, None),
            Event::Failed { reason, .. } => (ChangeKind::Failed, Some(reason.clone())),
            Event::Cancelled { .. } => (ChangeKind::Cancelled, None),
            Event::Removed { .. } => (ChangeKind::Removed, None),
            Event::PersistFailed { message, .. } => {
                (ChangeKind::PersistFailed, Some(message.clone()))
            }
            Event::StatusChanged { status, .. } => {
                (ChangeKind::StatusChanged, Some(status.to_string()))
            }
            Event::ApprovalRequested { approval, .. } => (
                ChangeKind::ApprovalRequested,
                Some(approval.request_id.clone()),
            ),
            Event::ApprovalResolved { request_id, .. } => {
                (ChangeKind::ApprovalResolved, Some(request_id.clone()))
            }
            Event::WorktreeChanged { .. } => (ChangeKind::WorktreeChanged, None),
            _ => return,
        };
        if let Err(e) = self.app.emit(
            events::TASK_CHANGED,
            TaskChanged {
                id: task,
                kind,
                message,
            },
        ) {
            tracing::warn!("cannot send a change of task {task} to the window: {e}");
        }
        if kind == ChangeKind::PersistFailed {
            return;
        }
        tray::refresh(&self.app);
        let notifications = self.app.state::<AppState>().settings().notifications;
        match &event {
            Event::ApprovalRequested { approval, .. } if notifications => {
                notify::approval_requested(&self.app, approval);
            }
            Event::ApprovalResolved { request_id, .. } => {
                notify::approval_resolved(&self.app, task, request_id);
            }
            _ => {}
        }
        if event.is_finish() {
            self.formats.remove(&task);
            if let (true, Some(record)) = (notifications, self.supervisor.get(task)) {
                notify::task_finished(&self.app, &record, self.supervisor.now_ms());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use supervisor::Stream;

    use super::*;

    fn lines(from: u64, count: usize) -> Vec<OutputLine> {
        (from..from + count as u64)
            .map(|seq| OutputLine {
                seq,
                stream: Stream::Stdout,
                text: Arc::from("x"),
                continued: false,
            })
            .collect()
    }

    #[test]
    fn batches_collect_per_task_and_overflow_into_a_resync() {
        let mut batches = Batches::default();
        let (a, b) = (TaskId(1), TaskId(2));
        batches.push(a, &lines(0, 10));
        batches.push(a, &lines(10, 5));
        batches.push(b, &lines(0, MAX_BATCH_LINES));
        batches.push(b, &lines(MAX_BATCH_LINES as u64, 1));
        match batches.take(a) {
            Some(Batch::Lines(got)) => assert_eq!(
                got.iter().map(|l| l.seq).collect::<Vec<_>>(),
                (0..15).collect::<Vec<_>>()
            ),
            other => panic!("expected lines, got {other:?}"),
        }
        assert_eq!(
            batches.take(b),
            Some(Batch::Resync),
            "past the bound the window re-reads"
        );
        assert!(batches.take_all().is_empty());
        batches.push(a, &lines(15, 1));
        batches.resync(a);
        batches.push(a, &lines(16, 1));
        assert_eq!(
            batches.take_all(),
            vec![(a, Batch::Resync)],
            "a resync stays a resync"
        );
    }
}
