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
    tauri::async_runtime::spawn(async move {
        Forwarder {
            app,
            supervisor,
            pending: HashMap::new(),
            formats: HashMap::new(),
        }
        .run()
        .await;
    });
}

struct Forwarder {
    app: AppHandle,
    supervisor: Supervisor,
    /// Lines waiting for the next flush; `None` when the batch overflowed (send a resync).
    pending: HashMap<TaskId, Option<Vec<OutputLine>>>,
    formats: HashMap<TaskId, OutputFormat>,
}

impl Forwarder {
    async fn run(mut self) {
        let mut events = self.supervisor.subscribe();
        // Only armed while something waits to be sent, so an idle app sleeps.
        let mut flush_at: Option<Instant> = None;
        loop {
            let deadline = flush_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                // `recv` and `sleep_until` are cancel-safe: losing the race loses nothing.
                event = events.recv() => match event {
                    Ok(Event::Output { task, lines }) => {
                        self.queue(task, &lines);
                        flush_at.get_or_insert_with(|| Instant::now() + BATCH_INTERVAL);
                    }
                    Ok(event) => self.lifecycle(event),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!("forwarder lagged by {missed} events: resync");
                        for task in self.supervisor.running() {
                            self.pending.insert(task.id, None);
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

    fn queue(&mut self, task: TaskId, new: &[OutputLine]) {
        let slot = self.pending.entry(task).or_insert_with(|| Some(Vec::new()));
        if let Some(lines) = slot {
            if lines.len() + new.len() > MAX_BATCH_LINES {
                *slot = None;
            } else {
                lines.extend_from_slice(new);
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
        let pending: Vec<_> = self.pending.drain().collect();
        for (task, lines) in pending {
            self.flush(task, lines);
        }
    }

    fn flush(&mut self, task: TaskId, lines: Option<Vec<OutputLine>>) {
        let sent = match lines {
            Some(lines) if lines.is_empty() => return,
            Some(lines) => {
                let format = self.format(task);
                let lines = lines.iter().map(|l| LineView::new(l, format)).collect();
                self.app
                    .emit(events::TASK_OUTPUT, TaskOutput { id: task, lines })
            }
            None => self.app.emit(events::TASK_RESYNC, TaskResync { id: task }),
        };
        if let Err(e) = sent {
            tracing::warn!("cannot send output of task {task} to the window: {e}");
        }
    }

    fn lifecycle(&mut self, event: Event) {
        let task = event.task();
        // The task's last lines go out before the news that it ended.
        if let Some(lines) = self.pending.remove(&task) {
            self.flush(task, lines);
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
        if event.is_finish() {
            self.formats.remove(&task);
            let notifications = self.app.state::<AppState>().settings().notifications;
            if let (true, Some(record)) = (notifications, self.supervisor.get(task)) {
                notify::task_finished(&self.app, &record, self.supervisor.now_ms());
            }
        }
    }
}
