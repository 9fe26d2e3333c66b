//! The queue: tasks that wait for their project, or for a place under the running limit, and
//! start by themselves in the order they were spawned.
//!
//! A queued task has a record (status `queued`, saved like any other, so the queue survives a
//! restart) but no lock, no runner and no process. One dispatcher per supervisor starts queued
//! tasks: woken when a runner ends or the settings change, and every [`RETRY`] while a queued
//! task waits for a project that another process holds. Starting, like spawning, happens under
//! the admission lock, so the limit holds however many clients spawn at once. Each project's
//! tasks start first in, first out: a task whose project is busy keeps every later task of
//! that project waiting behind it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::SupervisorConfig;
use crate::error::{Error, Result};
use crate::lock::ProjectLock;
use crate::model::{Event, TaskId, TaskRecord, TaskStatus};
use crate::table::{lock, lock_tasks, Live, Slot};
use crate::Supervisor;

/// How often a queued task looks again at a project held by another process (which cannot
/// wake this one when it ends).
const RETRY: Duration = Duration::from_secs(1);

impl Supervisor {
    /// The queued tasks, in the order they will start (oldest first). A task's place in the
    /// queue is its index here plus one.
    pub fn queue(&self) -> Vec<TaskId> {
        lock_tasks(&self.inner)
            .values()
            .filter(|s| s.record.status == TaskStatus::Queued)
            .map(|s| s.record.id)
            .collect()
    }

    /// Lets queued tasks start, for a supervisor started with `hold_queue` (once the host
    /// listens to events); does nothing the second time.
    pub fn open_queue(&self) {
        self.inner.queue_open.cancel();
    }

    /// Starts the dispatcher, which ends with the supervisor's shutdown (or when the last
    /// handle is dropped).
    pub(crate) fn start_queue(&self) {
        let weak = Arc::downgrade(&self.inner);
        let wake = self.inner.queue_wake.clone();
        let root = self.inner.root.clone();
        let open = self.inner.queue_open.clone();
        self.inner.tracker.spawn_on(
            async move {
                tokio::select! {
                    () = open.cancelled() => {}
                    () = root.cancelled() => return,
                }
                loop {
                    let Some(inner) = weak.upgrade() else { break };
                    let retry = Supervisor { inner }.dispatch();
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(RETRY), if retry => {}
                        () = root.cancelled() => break,
                    }
                }
            },
            &self.inner.runtime,
        );
    }

    /// Whether this supervisor runs as many tasks as the limit allows.
    pub(crate) fn over_limit(&self, config: &SupervisorConfig) -> bool {
        config
            .max_running
            .is_some_and(|max| self.running_count() >= max)
    }

    fn running_count(&self) -> usize {
        lock_tasks(&self.inner)
            .values()
            .filter(|s| s.live.is_some() && s.record.status.is_running())
            .count()
    }

    /// Whether a task of this supervisor spawned before `id` is queued for `project`: then
    /// `id` waits behind it.
    pub(crate) fn queued_in(&self, project: &Path, id: TaskId) -> bool {
        lock_tasks(&self.inner)
            .values()
            .any(|s| s.queued.is_some() && s.record.id < id && s.record.work_dir() == project)
    }

    /// The slot of a queued task found in the history: this supervisor takes it over (and
    /// starts it when it is its turn) unless the host that queued it still runs.
    pub(crate) fn adopt_queued(&self, mut record: TaskRecord) -> Slot {
        if self.owned_elsewhere(&record) {
            return Slot {
                record,
                ring: None,
                live: None,
                approvals: Vec::new(),
                queued: None,
            };
        }
        if record.owner != self.inner.me {
            record.owner = self.inner.me;
            self.inner.persist(&record);
        }
        let (done_tx, done_rx) = watch::channel(false);
        Slot {
            record,
            ring: None,
            live: Some(Live {
                cancel: self.inner.root.child_token(),
                done: done_rx,
                line: None,
            }),
            approvals: Vec::new(),
            queued: Some(done_tx),
        }
    }

    /// Cancels task `id` if it is one of this supervisor's queued tasks; `Ok(false)` when it
    /// is not queued.
    pub(crate) fn cancel_queued(&self, id: TaskId) -> Result<bool> {
        let now = self.inner.clock.now_ms();
        let (record, done) = {
            let mut tasks = lock_tasks(&self.inner);
            // Not held: a finished task of the history (queued ones are always held).
            let Some(slot) = tasks.get_mut(&id) else {
                return Ok(false);
            };
            if slot.record.status != TaskStatus::Queued {
                return Ok(false);
            }
            let Some(done) = slot.queued.take() else {
                // Queued by another host that still runs: only it can cancel the task.
                return Err(Error::TaskNotRunning { id });
            };
            slot.record.status = TaskStatus::Cancelled;
            slot.record.finished_at_ms = Some(now);
            (slot.record.clone(), done)
        };
        self.inner.persist(&record);
        let _ = self.inner.events.send(Event::Cancelled { task: id });
        let _ = done.send(true);
        tracing::info!("queued task {id} cancelled before it started");
        Ok(true)
    }

    /// Starts every queued task whose turn it is. Returns whether one waits for a project
    /// that another process holds (which no runner of this supervisor will free).
    pub(crate) fn dispatch(&self) -> bool {
        let inner = &self.inner;
        let _admission = lock(&inner.admission);
        if inner.root.is_cancelled() {
            return false;
        }
        let queued: Vec<(TaskId, PathBuf)> = lock_tasks(inner)
            .values()
            .filter(|s| s.queued.is_some() && s.record.status == TaskStatus::Queued)
            .map(|s| (s.record.id, s.record.work_dir().to_path_buf()))
            .collect();
        if queued.is_empty() {
            return false;
        }
        let config = inner.config();
        let mut running = self.running_count();
        let mut busy: HashSet<PathBuf> = HashSet::new();
        let mut held_elsewhere = false;
        for (id, project) in queued {
            if config.max_running.is_some_and(|max| running >= max) {
                break;
            }
            if busy.contains(&project) {
                continue;
            }
            match ProjectLock::acquire(&inner.history.locks_dir(), &project, id) {
                Ok(project_lock) => {
                    if self.start_queued(id, project_lock, &config) {
                        running += 1;
                    }
                }
                Err(Error::ProjectBusy { task_id, .. }) => {
                    held_elsewhere |= !self.runs(task_id);
                    busy.insert(project);
                }
                Err(e) => self.fail_unstarted(id, &e),
            }
        }
        held_elsewhere
    }

    /// Starts one queued task that now holds its project; false if it was cancelled meanwhile
    /// or could not start (then it failed, with the reason).
    fn start_queued(
        &self,
        id: TaskId,
        project_lock: ProjectLock,
        config: &SupervisorConfig,
    ) -> bool {
        let inner = &self.inner;
        let started = {
            let mut tasks = lock_tasks(inner);
            let Some(slot) = tasks.get_mut(&id) else {
                return false;
            };
            if slot.record.status != TaskStatus::Queued {
                return false;
            }
            let (Some(done), Some(live)) = (slot.queued.take(), slot.live.as_ref()) else {
                return false;
            };
            slot.record.status = TaskStatus::Pending;
            slot.record.owner = inner.me;
            (slot.record.clone(), live.cancel.clone(), done)
        };
        let (record, cancel, done) = started;
        inner.persist(&record);
        let _ = inner.events.send(Event::StatusChanged {
            task: id,
            status: TaskStatus::Pending,
        });
        tracing::info!("queued task {id} starts in {}", record.work_dir().display());
        let launched = config.agent.resolve().and_then(|agent| {
            self.launch(record, project_lock, config.clone(), agent, cancel, done)
        });
        // A task that could not launch has dropped `done`, which ends its waiters.
        match launched {
            Ok(()) => true,
            Err(e) => {
                self.fail_unstarted(id, &e);
                false
            }
        }
    }

    /// Ends a task that could not start (the agent is gone, the folder was removed) as
    /// failed, with the reason.
    fn fail_unstarted(&self, id: TaskId, error: &Error) {
        let now = self.inner.clock.now_ms();
        let reason = error.to_string();
        let record = self.inner.update(id, |r| {
            r.status = TaskStatus::Failed;
            r.finished_at_ms = Some(now);
            r.error = Some(reason.clone());
            r.failure = Some(reason.clone());
        });
        let done = lock_tasks(&self.inner)
            .get_mut(&id)
            .and_then(|s| s.queued.take());
        if let Some(done) = done {
            let _ = done.send(true);
        }
        if let Some(record) = record {
            tracing::warn!("queued task {id} could not start: {reason}");
            self.inner.persist(&record);
            let _ = self.inner.events.send(Event::Failed { task: id, reason });
        }
    }
}
