//! The [`Supervisor`] handle: the one entry point of the core. Cheap to clone, callable from
//! any thread; every task's processes are owned by that task's own tokio task (`runner`), and
//! the handle only reads shared state or sends it a cancel.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::agent::{agent_args, PromptInput};
use crate::approval::Approval;
use crate::config::{Clock, SupervisorConfig};
use crate::conversation::Line;
use crate::error::{Error, Result};
use crate::history::History;
use crate::lock::ProjectLock;
use crate::model::{
    Event, OutputLine, ProcessRef, SpawnRequest, TaskId, TaskPage, TaskQuery, TaskRecord,
    TaskStatus,
};
use crate::procfs;
use crate::ring::OutputRing;
use crate::runner::Run;
use crate::shim::AgentInput;

/// Events kept for subscribers. A subscriber that falls further behind gets
/// `RecvError::Lagged` and should re-read state (and output via [`Supervisor::attach`]).
/// The channel keeps this many events even when all were read, so with output events of at
/// most [`MAX_EVENT_LINES`] lines and `READ_CHUNK` bytes it holds at most a few tens of MiB.
pub const EVENT_CAPACITY: usize = 512;

/// Lines in one output event.
pub const MAX_EVENT_LINES: usize = 256;

/// How long shutdown waits for runners after killing their trees.
const SHUTDOWN_KILL_WAIT: Duration = Duration::from_secs(5);

/// Finished tasks that stay in memory with their output tail: the last ones that ended or were
/// looked at. Older ones are read from the history (and their tail from the log) again when
/// asked for, so memory does not grow with the history.
pub const KEPT_RINGS: usize = 32;

/// Transcripts written at the same time; more finishing tasks wait their turn.
pub const TRANSCRIPT_WRITERS: usize = 2;

/// The environment variable that marks every process of a task, so leftovers can be found
/// after a crash. Its value is `<instance>:<task id>`.
pub const MARKER_ENV: &str = "TASKTRAY_TASK";

/// Runs and remembers tasks. See the crate docs for the theory of operation.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub(crate) inner: Arc<Inner>,
}

/// A live view of one task: the output so far and the events from right after it. Taken
/// under the task's output lock, so no line is missed or seen twice between the two.
#[derive(Debug)]
pub struct Attached {
    pub record: TaskRecord,
    pub snapshot: Vec<OutputLine>,
    pub events: broadcast::Receiver<Event>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// Settings for tasks started from now on; each task keeps the copy it started with.
    config: Mutex<SupervisorConfig>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) history: History,
    pub(crate) runtime: Handle,
    tasks: Mutex<BTreeMap<TaskId, Slot>>,
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
    kept_rings: Mutex<std::collections::VecDeque<TaskId>>,
    /// Identifies this data dir in the process marker.
    instance: String,
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

impl Supervisor {
    /// Opens the history in the data dir, recovers from a crash of an earlier host (tasks it
    /// left running become `interrupted` and their processes are killed), and starts
    /// accepting tasks, which run on `runtime`.
    pub fn start(config: SupervisorConfig, runtime: Handle) -> Result<Self> {
        let history = History::open(&config.data_dir)?;
        let hold_queue = config.hold_queue;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let inner = Arc::new(Inner {
            instance: instance_id(history.root()),
            me: procfs::process_ref(std::process::id() as i32),
            history,
            runtime,
            tasks: Mutex::new(BTreeMap::new()),
            events,
            root: CancellationToken::new(),
            tracker: TaskTracker::new(),
            transcripts: tokio::sync::Semaphore::new(TRANSCRIPT_WRITERS),
            admission: Mutex::new(()),
            kept_rings: Mutex::new(std::collections::VecDeque::new()),
            queue_wake: Arc::new(tokio::sync::Notify::new()),
            queue_open: CancellationToken::new(),
            clock: config.clock.clone(),
            config: Mutex::new(config),
        });
        let supervisor = Supervisor { inner };
        if !hold_queue {
            supervisor.open_queue();
        }
        supervisor.recover();
        supervisor.start_queue();
        supervisor.start_watching();
        Ok(supervisor)
    }

    fn recover(&self) {
        let history = &self.inner.history;
        match history.reconcile() {
            Ok(0) => {}
            Ok(n) => tracing::info!("brought {n} tasks of the index up to date"),
            Err(e) => tracing::warn!("cannot bring the task index up to date: {e}"),
        }
        // Only the tasks that have not finished are held; the rest is read when asked for.
        let mut active = history.active().unwrap_or_else(|e| {
            tracing::warn!("{e}: reading every task folder instead");
            history
                .load_all()
                .into_iter()
                .filter(|r| r.status.is_active())
                .collect()
        });
        active.sort_by_key(|r| r.id);
        let mut tasks = lock(&self.inner.tasks);
        for mut record in active {
            if record.status == TaskStatus::Queued {
                let slot = self.adopt_queued(record);
                tasks.insert(slot.record.id, slot);
                continue;
            }
            if record.status.is_active() && !self.owned_elsewhere(&record) {
                tracing::warn!(
                    "task {} was left {} by a host that is gone: interrupted",
                    record.id,
                    record.status
                );
                self.kill_leftovers(&record);
                record.status = TaskStatus::Interrupted;
                record
                    .finished_at_ms
                    .get_or_insert(self.inner.clock.now_ms());
                record.error = Some("Tasktray stopped while this task was running".into());
                if let Err(e) = self.inner.history.save(&record) {
                    tracing::warn!("could not record task {} as interrupted: {e}", record.id);
                }
            }
            tasks.insert(record.id, Slot::held(record));
        }
    }

    /// A task recorded as active whose owner process still lives (e.g. `taskctl run` while the
    /// app starts) is left alone.
    pub(crate) fn owned_elsewhere(&self, record: &TaskRecord) -> bool {
        record
            .owner
            .is_some_and(|o| Some(o) != self.inner.me && procfs::is_alive(o))
    }

    pub(crate) fn kill_leftovers(&self, record: &TaskRecord) {
        if let Some(shim) = record.shim.filter(|s| procfs::is_alive(*s)) {
            procfs::signal_all(&[shim.pid], nix::sys::signal::Signal::SIGKILL);
        }
        let marked = procfs::marked(MARKER_ENV, &self.inner.marker(record.id));
        if !marked.is_empty() {
            tracing::warn!(
                "killing {} leftover processes of task {}",
                marked.len(),
                record.id
            );
            procfs::signal_all(&marked, nix::sys::signal::Signal::SIGKILL);
        }
    }

    /// Starts a task and returns its id at once; the agent runs in the background. Over the
    /// running limit, or with [`SpawnRequest::queue`] while its project is busy, the task is
    /// `queued` instead and starts by itself when it is its turn.
    pub fn spawn(&self, request: SpawnRequest) -> Result<TaskId> {
        let inner = &self.inner;
        if inner.root.is_cancelled() {
            return Err(Error::ShuttingDown);
        }
        if request.prompt.trim().is_empty() {
            return Err(Error::EmptyPrompt);
        }
        if request.prompt.contains('\0') {
            return Err(Error::PromptHasNul);
        }
        let project = canonical_project(&request.project_dir)?;
        let config = inner.config();
        // Checked now even for a task that is queued, so a missing agent is said at once.
        let agent = config.agent.resolve()?;

        // Deciding whether the task starts and making it count are one step.
        let _admission = lock(&inner.admission);
        // The project first: a refused task takes no id.
        let mut project_lock = match ProjectLock::take(&inner.history.locks_dir(), &project) {
            Ok(lock) => Some(lock),
            Err(Error::ProjectBusy { .. }) if request.queue => None,
            Err(e) => return Err(e),
        };
        let id = inner.history.allocate_id()?;
        if let Some(held) = project_lock.as_mut() {
            if let Err(e) = held.hold_for(id) {
                let _ = inner.history.remove(id);
                return Err(e);
            }
        }
        let project_lock =
            project_lock.filter(|_| !self.over_limit(&config) && !self.queued_in(&project, id));
        let record = TaskRecord {
            id,
            name: task_name(&request.name, &request.prompt),
            prompt: request.prompt,
            project_dir: project,
            options: request.options,
            status: if project_lock.is_some() {
                TaskStatus::Pending
            } else {
                TaskStatus::Queued
            },
            created_at_ms: inner.clock.now_ms(),
            started_at_ms: None,
            finished_at_ms: None,
            exit: None,
            error: None,
            failure: None,
            result: None,
            session_id: None,
            follow_up_of: request.follow_up_of,
            owner: inner.me,
            shim: None,
            line_count: 0,
        };
        if let Err(e) = inner.history.save(&record) {
            let _ = inner.history.remove(id);
            return Err(e);
        }
        let cancel = inner.root.child_token();
        let (done_tx, done_rx) = watch::channel(false);
        let ring = project_lock.as_ref().map(|_| {
            Arc::new(Mutex::new(OutputRing::new(
                config.ring_lines,
                config.ring_bytes,
            )))
        });
        let (queued, done_tx) = match project_lock {
            Some(_) => (None, Some(done_tx)),
            None => (Some(done_tx), None),
        };
        lock_tasks(inner).insert(
            id,
            Slot {
                record: record.clone(),
                ring,
                live: Some(Live {
                    cancel: cancel.clone(),
                    done: done_rx,
                    line: None,
                }),
                approvals: Vec::new(),
                queued,
            },
        );
        let _ = inner.events.send(Event::Spawned { task: id });
        let (Some(project_lock), Some(done_tx)) = (project_lock, done_tx) else {
            tracing::info!("task {id} queued for {}", record.project_dir.display());
            return Ok(id);
        };
        tracing::info!("task {id} spawned in {}", record.project_dir.display());
        if let Err(e) = self.launch(record, project_lock, config, agent, cancel, done_tx) {
            lock_tasks(inner).remove(&id);
            let _ = inner.history.remove(id);
            let _ = inner.events.send(Event::Removed { task: id });
            return Err(e);
        }
        Ok(id)
    }

    /// Hands a task that holds its project to its runner.
    pub(crate) fn launch(
        &self,
        record: TaskRecord,
        project_lock: ProjectLock,
        config: SupervisorConfig,
        agent: std::path::PathBuf,
        cancel: CancellationToken,
        done: watch::Sender<bool>,
    ) -> Result<()> {
        let inner = &self.inner;
        let id = record.id;
        let (args, input) = agent_args(&record.prompt, &record.options);
        let stdin = match input {
            PromptInput::Argument => AgentInput::Null,
            PromptInput::Message => AgentInput::Pipe,
            PromptInput::Stdin => {
                let path = inner.history.prompt_path(id);
                crate::history::write_private(&path, record.prompt.as_bytes())
                    .map_err(|e| Error::io("write the prompt to", &path, e))?;
                AgentInput::File(path)
            }
        };
        let (line, control) = match stdin {
            AgentInput::Pipe => {
                let (line, control) = Line::new();
                (Some(line), Some(control))
            }
            _ => (None, None),
        };
        let ring = {
            let mut tasks = lock_tasks(inner);
            let slot = tasks.get_mut(&id).ok_or(Error::TaskNotFound { id })?;
            if let Some(live) = slot.live.as_mut() {
                live.line = line.clone();
            }
            // A queued task that someone looked at already has its (empty) tail.
            slot.ring
                .get_or_insert_with(|| {
                    Arc::new(Mutex::new(OutputRing::new(
                        config.ring_lines,
                        config.ring_bytes,
                    )))
                })
                .clone()
        };
        let run = Run {
            inner: inner.clone(),
            config,
            record,
            agent,
            args,
            stdin,
            line,
            control,
            lock: project_lock,
            ring,
            cancel,
            done,
        };
        let runner = inner.runtime.spawn(run.run());
        // The runner never panics by design; if it does all the same, the task still ends:
        // its tree was killed by the runner's drop guard, and the record says what happened.
        let monitor = inner.clone();
        inner.tracker.spawn_on(
            async move {
                if let Err(e) = runner.await {
                    monitor.runner_lost(id, &e.to_string());
                }
                // A place is free: the next queued task may start.
                monitor.queue_wake.notify_one();
            },
            &inner.runtime,
        );
        Ok(())
    }

    /// Continues a finished task's agent session with a new prompt, as a new linked task.
    pub fn follow_up(&self, id: TaskId, prompt: String) -> Result<TaskId> {
        let record = self.get(id).ok_or(Error::TaskNotFound { id })?;
        if record.status.is_active() {
            return Err(Error::TaskRunning { id });
        }
        let session = record
            .session_id
            .clone()
            .filter(|_| record.options.keep_session || record.options.resume.is_some())
            .ok_or(Error::NoSession { id })?;
        let mut options = record.options.clone();
        options.resume = Some(session);
        options.keep_session = true;
        self.spawn(SpawnRequest {
            name: format!(
                "{} (follow-up)",
                record.name.trim_end_matches(" (follow-up)")
            ),
            prompt,
            project_dir: record.project_dir,
            options,
            follow_up_of: Some(id),
            queue: false,
        })
    }

    /// Asks a running task to stop (SIGTERM to its tree, SIGKILL after the grace period) and
    /// returns at once. A queued task is cancelled at once: it never starts.
    pub fn request_cancel(&self, id: TaskId) -> Result<()> {
        if self.cancel_queued(id)? {
            return Ok(());
        }
        if let Some(owner) = self.taskctl_owner(id) {
            // `taskctl run` cancels its task on SIGTERM, as on Ctrl-C.
            tracing::info!("task {id}: asking taskctl (pid {}) to cancel it", owner.pid);
            procfs::signal_all(&[owner.pid], nix::sys::signal::Signal::SIGTERM);
            return Ok(());
        }
        let live = self.live(id)?;
        live.cancel.cancel();
        Ok(())
    }

    /// Cancels a running task and waits until its whole process tree is gone.
    pub async fn cancel(&self, id: TaskId) -> Result<TaskRecord> {
        self.request_cancel(id)?;
        self.wait(id).await
    }

    /// Waits until a task has finished and returns its final record.
    pub async fn wait(&self, id: TaskId) -> Result<TaskRecord> {
        let live = {
            let tasks = lock_tasks(&self.inner);
            let slot = tasks.get(&id).ok_or(Error::TaskNotFound { id })?;
            slot.live.clone()
        };
        if let Some(mut live) = live {
            // An error means the runner is gone, which also means it finished.
            let _ = live.done.wait_for(|done| *done).await;
        }
        self.get(id).ok_or(Error::TaskNotFound { id })
    }

    pub(crate) fn live(&self, id: TaskId) -> Result<Live> {
        let tasks = lock_tasks(&self.inner);
        let Some(slot) = tasks.get(&id) else {
            drop(tasks);
            // Not held: finished (active tasks are always held), or unknown.
            return Err(match self.get(id) {
                Some(_) => Error::TaskNotRunning { id },
                None => Error::TaskNotFound { id },
            });
        };
        match &slot.live {
            Some(_) if slot.record.status == TaskStatus::Queued => Err(Error::TaskQueued { id }),
            Some(live) if slot.record.status.is_active() => Ok(live.clone()),
            None if slot.record.status.is_active() => Err(Error::TaskElsewhere {
                id,
                owner: owner_label(slot.record.owner),
            }),
            _ => Err(Error::TaskNotRunning { id }),
        }
    }

    /// The `taskctl` process that runs task `id`, when another one does.
    fn taskctl_owner(&self, id: TaskId) -> Option<ProcessRef> {
        let record = self.get(id)?;
        let owner = record.owner?;
        let elsewhere =
            record.status.is_running() && !self.runs(id) && Some(owner) != self.inner.me;
        (elsewhere && procfs::command_name(owner).as_deref() == Some("taskctl")).then_some(owner)
    }

    /// Whether this supervisor runs task `id` (another host's task is only seen in the
    /// history: this one cannot answer, message or cancel it).
    pub fn runs(&self, id: TaskId) -> bool {
        lock_tasks(&self.inner)
            .get(&id)
            .is_some_and(|slot| slot.live.is_some() && slot.record.status.is_active())
    }

    /// One task by id: held in memory while it is active, else read from the history.
    pub fn get(&self, id: TaskId) -> Option<TaskRecord> {
        if let Some(record) = self.inner.record(id) {
            return Some(record);
        }
        match self.inner.history.load(id) {
            Ok(record) => Some(record),
            Err(Error::TaskNotFound { .. }) => None,
            Err(e) => {
                tracing::warn!("cannot read task {id}: {e}");
                None
            }
        }
    }

    /// One page of the tasks that match `query`, newest first (from the history's index; the
    /// tasks held in memory as they are now).
    pub fn list(&self, query: &TaskQuery) -> Result<TaskPage> {
        let mut page = self.inner.history.list(query)?;
        let tasks = lock_tasks(&self.inner);
        for record in &mut page.tasks {
            if let Some(slot) = tasks.get(&record.id) {
                record.clone_from(&slot.record);
            }
        }
        // A status that changed a moment ago may not be in the index yet.
        if !query.status.is_empty() {
            page.tasks.retain(|r| query.status.contains(&r.status));
        }
        Ok(page)
    }

    /// The project folders of the latest tasks, newest first, each once.
    pub fn recent_projects(&self, count: usize) -> Result<Vec<std::path::PathBuf>> {
        self.inner.history.recent_projects(count)
    }

    /// Tasks whose name contains `needle`, ignoring case, newest first.
    pub fn find_by_name(&self, needle: &str) -> Vec<TaskRecord> {
        let needle = needle.to_lowercase();
        let mut found = self.all();
        found.retain(|r| r.name.to_lowercase().contains(&needle));
        found
    }

    /// Every task, newest first. A long history is better read a page at a time with
    /// [`Supervisor::list`].
    pub fn all(&self) -> Vec<TaskRecord> {
        let all = self
            .inner
            .history
            .list_all(&TaskQuery::default())
            .unwrap_or_else(|e| {
                tracing::warn!("{e}: reading every task folder instead");
                let mut all = self.inner.history.load_all();
                all.reverse();
                all
            });
        let tasks = lock_tasks(&self.inner);
        all.into_iter()
            .map(|r| tasks.get(&r.id).map_or(r, |slot| slot.record.clone()))
            .collect()
    }

    /// Tasks that have not finished (queued, pending, running, waiting), newest first.
    pub fn running(&self) -> Vec<TaskRecord> {
        self.filtered(|r| r.status.is_active())
    }

    fn filtered(&self, keep: impl Fn(&TaskRecord) -> bool) -> Vec<TaskRecord> {
        let tasks = lock_tasks(&self.inner);
        tasks
            .values()
            .rev()
            .map(|s| &s.record)
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    /// The output lines held in memory, joined (the seed's `get_task_output`).
    pub fn output_text(&self, id: TaskId) -> Result<String> {
        let ring = self.ring(id)?;
        let text = lock(&ring).text();
        Ok(text)
    }

    /// The whole output, from the log on disk.
    pub fn log_text(&self, id: TaskId) -> Result<String> {
        self.get(id).ok_or(Error::TaskNotFound { id })?;
        self.inner.history.read_log(id)
    }

    /// Up to `count` lines before sequence number `before`, from the log on disk (for
    /// scrolling back past the in-memory tail). Lines read back from disk are all tagged
    /// stdout: the log does not keep which pipe a line came from.
    pub fn log_page(&self, id: TaskId, before: u64, count: usize) -> Result<Vec<OutputLine>> {
        self.get(id).ok_or(Error::TaskNotFound { id })?;
        let start = before.saturating_sub(count as u64);
        let lines = self.inner.history.read_log_lines(id, start, before)?;
        Ok(lines
            .into_iter()
            .zip(start..)
            .map(|(text, seq)| OutputLine {
                seq,
                stream: crate::model::Stream::Stdout,
                text: Arc::from(text),
                continued: false,
            })
            .collect())
    }

    /// The output so far plus every later event, atomically (see [`Attached`]).
    pub fn attach(&self, id: TaskId) -> Result<Attached> {
        let ring = self.ring(id)?;
        let ring = lock(&ring);
        let events = self.inner.events.subscribe();
        let snapshot = ring.snapshot();
        // The record is read under the same lock, so its status is not older than the
        // snapshot: a finish event after it is still delivered.
        let record = self.get(id).ok_or(Error::TaskNotFound { id })?;
        Ok(Attached {
            record,
            snapshot,
            events,
        })
    }

    /// All events of all tasks. Output events arrive in order per task, with sequence numbers.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    fn ring(&self, id: TaskId) -> Result<Arc<Mutex<OutputRing>>> {
        if let Some(slot) = lock_tasks(&self.inner).get(&id) {
            if let Some(ring) = slot.ring.clone() {
                return Ok(ring);
            }
        }
        // A finished task not held in memory: it is held again while its ring is kept.
        let record = self.get(id).ok_or(Error::TaskNotFound { id })?;
        lock_tasks(&self.inner)
            .entry(id)
            .or_insert_with(|| Slot::held(record));
        // A task from the history: rebuild its tail from the log, outside the map lock.
        let config = self.inner.config();
        let (lines, before) = self.inner.history.read_log_tail(id, config.ring_lines)?;
        let mut ring = OutputRing::new(config.ring_lines, config.ring_bytes).with_next_seq(before);
        for line in lines {
            ring.push(crate::model::Stream::Stdout, Arc::from(line), false);
        }
        let ring = Arc::new(Mutex::new(ring));
        let mut tasks = lock_tasks(&self.inner);
        let slot = tasks.get_mut(&id).ok_or(Error::TaskNotFound { id })?;
        let ring = slot.ring.get_or_insert(ring).clone();
        drop(tasks);
        self.inner.keep_ring(id);
        Ok(ring)
    }

    /// Forgets a finished task: its history and log are deleted (the transcript file in the
    /// project stays). Refused while it runs.
    pub fn cleanup(&self, id: TaskId) -> Result<()> {
        {
            let mut tasks = lock_tasks(&self.inner);
            match tasks.get(&id) {
                Some(slot) => {
                    // Also while its runner still writes the transcript after the final status.
                    let finishing = slot.live.as_ref().is_some_and(|l| !*l.done.borrow());
                    if slot.record.status.is_active() || finishing {
                        return Err(Error::TaskRunning { id });
                    }
                    tasks.remove(&id);
                }
                // Not held: a finished task of the history (active ones are always held).
                None => {
                    let record = self.inner.history.load(id)?;
                    if record.status.is_active() {
                        return Err(Error::TaskRunning { id });
                    }
                }
            }
        }
        // The project lock went with the task's runner when it finished.
        self.inner.history.remove(id)?;
        let _ = self.inner.events.send(Event::Removed { task: id });
        Ok(())
    }

    /// Stops every task and waits for their trees to be gone: SIGTERM to each, then, if
    /// `deadline` passes first, SIGKILL to every process that carries a task marker.
    pub async fn shutdown(&self, deadline: Duration) {
        self.inner.root.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(deadline, self.inner.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("tasks did not stop within {deadline:?}: killing them");
            for record in self.running() {
                self.kill_leftovers(&record);
            }
            // Killed trees close their pipes at once; a runner that still does not end is
            // left behind rather than hanging the host's exit.
            if tokio::time::timeout(SHUTDOWN_KILL_WAIT, self.inner.tracker.wait())
                .await
                .is_err()
            {
                tracing::error!("task runners still busy after the kill; giving up on them");
            }
        }
    }

    /// The data dir's history, for readers such as `taskctl list`.
    pub fn history(&self) -> &History {
        &self.inner.history
    }

    /// The marker value the processes of task `id` carry in [`MARKER_ENV`].
    pub fn marker(&self, id: TaskId) -> OsString {
        self.inner.marker(id)
    }

    /// Changes the settings for tasks started from now on (agent, bounds, grace period, env);
    /// running tasks keep theirs. The data dir cannot change.
    pub fn configure(&self, change: impl FnOnce(&mut SupervisorConfig)) {
        {
            let mut config = lock(&self.inner.config);
            let data_dir = config.data_dir.clone();
            change(&mut config);
            config.data_dir = data_dir;
        }
        // The running limit may have grown.
        self.inner.queue_wake.notify_one();
    }

    /// The settings new tasks start with.
    pub fn config(&self) -> SupervisorConfig {
        self.inner.config()
    }

    /// How many tasks hold their output tail in memory: every running task, and at most
    /// [`KEPT_RINGS`] finished ones.
    pub fn rings_held(&self) -> usize {
        lock_tasks(&self.inner)
            .values()
            .filter(|s| s.ring.is_some())
            .count()
    }

    /// How many tasks are held in memory: the active ones, and at most [`KEPT_RINGS`]
    /// finished ones; the rest of the history is read from disk when asked for.
    pub fn held(&self) -> usize {
        lock_tasks(&self.inner).len()
    }

    /// The process this supervisor runs in, as task records name their owner.
    pub fn host(&self) -> Option<ProcessRef> {
        self.inner.me
    }

    /// The clock the supervisor stamps tasks with.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }
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
    fn runner_lost(&self, id: TaskId, why: &str) {
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

fn canonical_project(path: &Path) -> Result<std::path::PathBuf> {
    if !path.is_absolute() {
        return Err(Error::ProjectDirRelative {
            path: path.to_path_buf(),
        });
    }
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::ProjectDirMissing {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(Error::io("open the project folder", path, e)),
        Ok(meta) if !meta.is_dir() => Err(Error::ProjectNotDir {
            path: path.to_path_buf(),
        }),
        Ok(_) => std::fs::canonicalize(path).map_err(|e| Error::io("resolve", path, e)),
    }
}

/// How an error names the process that runs a task: `taskctl, pid 4242`.
fn owner_label(owner: Option<ProcessRef>) -> String {
    match owner {
        Some(owner) => match procfs::command_name(owner) {
            Some(name) => format!("{name}, pid {}", owner.pid),
            None => format!("pid {}, which has ended", owner.pid),
        },
        None => "unknown".to_owned(),
    }
}

/// The given name, or the prompt's first line shortened.
fn task_name(name: &str, prompt: &str) -> String {
    let name = name.trim();
    if !name.is_empty() {
        return name.chars().take(120).collect();
    }
    let first = prompt
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("task");
    let mut short: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        short.push('…');
    }
    short
}

/// A short stable id of a data dir, so markers of different data dirs never match.
fn instance_id(data_dir: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut hash: u32 = 0x811c_9dc5;
    for &b in data_dir.as_os_str().as_bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_prompt_when_empty() {
        assert_eq!(
            task_name("  ", "\n  Fix the login bug\nmore"),
            "Fix the login bug"
        );
        assert_eq!(task_name("mine", "x"), "mine");
        assert!(task_name("", &"y".repeat(100)).ends_with('…'));
    }
}
