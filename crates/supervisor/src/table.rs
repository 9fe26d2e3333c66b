//! The task table: what the supervisor knows of each task (its record, its output tail, its
//! runner's handles, its open requests), shared by the public handle (`supervisor`), the
//! runners, the queue and the watcher of other hosts' tasks. Each of them reaches the others'
//! state only through it, so none depends on another.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::runtime::Handle;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::approval::Approval;
use crate::config::{Clock, SupervisorConfig};
use crate::conversation::Line;
use crate::history::History;
use crate::model::{Event, ProcessRef, TaskId, TaskRecord, TaskStatus};
use crate::ring::OutputRing;

/// Events kept for subscribers. A subscriber that falls further behind gets
/// `RecvError::Lagged` and should re-read state (and output via
/// [`Supervisor::attach`](crate::Supervisor::attach)).
/// The channel keeps this many events even when all were read, so with output events of at
/// most [`MAX_EVENT_LINES`] lines and `READ_CHUNK` bytes it holds at most a few tens of MiB.
pub const EVENT_CAPACITY: usize = 512;

/// Lines in one output event.
pub const MAX_EVENT_LINES: usize = 256;

/// Finished tasks that stay in memory with their output tail: the last ones that ended or were
/// looked at. Older ones are read from the history (and their tail from the log) again when
/// asked for, so memory does not grow with the history.
pub const KEPT_RINGS: usize = 32;

/// Transcripts written at the same time; more finishing tasks wait their turn.
pub const TRANSCRIPT_WRITERS: usize = 2;

/// The environment variable that marks every process of a task, so leftovers can be found
/// after a crash. Its value is `<instance>:<task id>`.
pub const MARKER_ENV: &str = "TASKTRAY_TASK";

#[derive(Debug)]
pub(crate) struct Inner {
    /// Settings for tasks started from now on; each task keeps the copy it started with.
    pub(crate) config: Mutex<SupervisorConfig>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) history: History,
    pub(crate) runtime: Handle,
    pub(crate) tasks: Mutex<BTreeMap<TaskId, Slot>>,
    pub(crate) events: broadcast::Sender<Event>,
    /// Cancelled on shutdown; each task's token is a child of it.
    pub(crate) root: CancellationToken,
    pub(crate) tracker: TaskTracker,
    /// Bounds how many transcripts are written at once: each streams a whole log.
    pub(crate) transcripts: tokio::sync::Semaphore,
    /// Held while deciding whether a task starts or queues, and while starting queued tasks,
    /// so the running limit holds.
    pub(crate) admission: Mutex<()>,
    /// Wakes the queue when a place may have come free.
    pub(crate) queue_wake: Arc<tokio::sync::Notify>,
    /// Cancelled once queued tasks may start (see `SupervisorConfig::hold_queue`).
    pub(crate) queue_open: CancellationToken,
    /// Finished tasks that keep their ring, oldest first (see [`KEPT_RINGS`]).
    pub(crate) kept_rings: Mutex<std::collections::VecDeque<TaskId>>,
    /// Identifies this data dir in the process marker.
    pub(crate) instance: String,
    pub(crate) me: Option<ProcessRef>,
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) record: TaskRecord,
    /// The in-memory tail; for tasks loaded from history, built from the log when asked for.
    pub(crate) ring: Option<Arc<Mutex<OutputRing>>>,
    pub(crate) live: Option<Live>,
    /// Requests of the agent that wait for the user. Whoever removes one (an answer, the
    /// timeout, the end of its turn) is the only one to resolve it.
    pub(crate) approvals: Vec<Approval>,
    /// A queued task of this supervisor: what tells its waiters it ended, until it starts.
    pub(crate) queued: Option<watch::Sender<bool>>,
}

impl Slot {
    /// A task this supervisor does not run, as the history has it.
    pub(crate) fn held(record: TaskRecord) -> Self {
        Slot {
            record,
            ring: None,
            live: None,
            approvals: Vec::new(),
            queued: None,
        }
    }

    /// A finished task nobody waits on: it can leave memory (the history has it).
    fn can_go(&self) -> bool {
        !self.record.status.is_active()
            && self.live.as_ref().is_none_or(|l| *l.done.borrow())
            && self.approvals.is_empty()
            && self.queued.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub(crate) cancel: CancellationToken,
    pub(crate) done: watch::Receiver<bool>,
    /// The way to a two-way task's runner; `None` for a text task.
    pub(crate) line: Option<Line>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data half-updated (every
    // critical section is a single assignment or push), so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    /// Notes that a finished task's ring was used (it ended, or was looked at); the ring of
    /// the finished task used longest ago beyond [`KEPT_RINGS`] is dropped.
    pub(crate) fn keep_ring(&self, id: TaskId) {
        let dropped = {
            let mut kept = lock(&self.kept_rings);
            kept.retain(|k| *k != id);
            kept.push_back(id);
            if kept.len() > KEPT_RINGS {
                kept.pop_front()
            } else {
                None
            }
        };
        if let Some(old) = dropped {
            let mut tasks = lock_tasks(self);
            if tasks.get(&old).is_some_and(Slot::can_go) {
                tasks.remove(&old);
            }
        }
    }

    /// Lets go of the finished tasks held in memory that are neither among the kept rings nor
    /// still finishing, so memory does not grow with the history. A task comes back from the
    /// history when asked for.
    pub(crate) fn let_go_of_finished(&self) {
        let kept: Vec<TaskId> = lock(&self.kept_rings).iter().copied().collect();
        lock_tasks(self).retain(|id, slot| kept.contains(id) || !slot.can_go());
    }

    pub(crate) fn config(&self) -> SupervisorConfig {
        lock(&self.config).clone()
    }

    pub(crate) fn marker(&self, id: TaskId) -> OsString {
        OsString::from(format!("{}:{id}", self.instance))
    }

    pub(crate) fn record(&self, id: TaskId) -> Option<TaskRecord> {
        lock_tasks(self).get(&id).map(|s| s.record.clone())
    }

    /// Applies `change` to a task's record and returns the new record.
    pub(crate) fn update(
        &self,
        id: TaskId,
        change: impl FnOnce(&mut TaskRecord),
    ) -> Option<TaskRecord> {
        let mut tasks = lock_tasks(self);
        let slot = tasks.get_mut(&id)?;
        change(&mut slot.record);
        Some(slot.record.clone())
    }

    /// Adds a request that waits for the user.
    pub(crate) fn add_approval(&self, approval: Approval) {
        if let Some(slot) = lock_tasks(self).get_mut(&approval.task) {
            slot.approvals.push(approval);
        }
    }

    /// Removes an open request; the one caller that gets it resolves it.
    pub(crate) fn claim_approval(&self, id: TaskId, request_id: &str) -> Option<Approval> {
        let mut tasks = lock_tasks(self);
        let approvals = &mut tasks.get_mut(&id)?.approvals;
        let at = approvals.iter().position(|a| a.request_id == request_id)?;
        Some(approvals.remove(at))
    }

    /// The open requests of a task, oldest first.
    pub(crate) fn approvals_of(&self, id: TaskId) -> Vec<Approval> {
        lock_tasks(self)
            .get(&id)
            .map(|s| s.approvals.clone())
            .unwrap_or_default()
    }

    /// Removes every open request of a task.
    pub(crate) fn take_approvals(&self, id: TaskId) -> Vec<Approval> {
        lock_tasks(self)
            .get_mut(&id)
            .map(|s| std::mem::take(&mut s.approvals))
            .unwrap_or_default()
    }

    /// Every open request, oldest first.
    pub(crate) fn all_approvals(&self) -> Vec<Approval> {
        let mut all: Vec<Approval> = lock_tasks(self)
            .values()
            .flat_map(|s| s.approvals.iter().cloned())
            .collect();
        all.sort_by_key(|a| (a.requested_at_ms, a.task));
        all
    }

    /// Records a task whose runner died (a bug): failed, with the reason, and tells subscribers.
    pub(crate) fn runner_lost(&self, id: TaskId, why: &str) {
        tracing::error!("task {id}: its runner stopped unexpectedly: {why}");
        let now = self.clock.now_ms();
        let reason = format!("Tasktray's runner of this task stopped unexpectedly ({why})");
        let record = self.update(id, |r| {
            if r.status.is_active() {
                r.status = TaskStatus::Failed;
                r.finished_at_ms = Some(now);
                r.error = Some(reason.clone());
            }
        });
        if let Some(record) = record.filter(|r| r.error.as_deref() == Some(reason.as_str())) {
            self.persist(&record);
            let _ = self.events.send(Event::Failed { task: id, reason });
        }
    }

    /// Saves a record; a failure is reported as an event and logged, and the task goes on.
    pub(crate) fn persist(&self, record: &TaskRecord) {
        if let Err(e) = self.history.save(record) {
            tracing::warn!("could not save task {}: {e}", record.id);
            let _ = self.events.send(Event::PersistFailed {
                task: record.id,
                message: e.to_string(),
            });
        }
    }
}

pub(crate) fn lock_tasks(inner: &Inner) -> MutexGuard<'_, BTreeMap<TaskId, Slot>> {
    lock(&inner.tasks)
}
