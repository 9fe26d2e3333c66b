//! The [`Supervisor`] handle: the one entry point of the core. Cheap to clone, callable from
//! any thread; every task's processes are owned by that task's own tokio task (`runner`), and
//! the handle only reads shared state (the task table, `table`) or sends it a cancel. This file
//! starts, stops and forgets tasks; what hosts read is in `reading`, the queue in `queue`, the
//! two-way calls in `interact`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::agent::{agent_args, PromptInput};
use crate::config::SupervisorConfig;
use crate::conversation::Line;
use crate::error::{Error, Result};
use crate::history::History;
use crate::lock::ProjectLock;
use crate::model::{
    Event, ProcessRef, SpawnRequest, TaskId, TaskRecord, TaskStatus, Worktree, WorktreeState,
};
use crate::procfs;
use crate::ring::OutputRing;
use crate::runner::Run;
use crate::shim::AgentInput;
use crate::table::{
    lock, lock_tasks, Inner, Live, Slot, EVENT_CAPACITY, MARKER_ENV, TRANSCRIPT_WRITERS,
};
use crate::worktree;

/// How long shutdown waits for runners after killing their trees.
const SHUTDOWN_KILL_WAIT: Duration = Duration::from_secs(5);

/// Runs and remembers tasks. See the crate docs for the theory of operation.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub(crate) inner: Arc<Inner>,
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
        for stray in supervisor.stray_worktrees() {
            tracing::warn!(
                "the worktree {} ({}) belongs to no task: kept, as it may hold unmerged work; \
                 remove it with `git worktree remove` once its work is safe",
                stray.path.display(),
                stray.branch.as_deref().unwrap_or("no branch")
            );
        }
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
        self.spawn_in(request, None)
    }

    /// [`Supervisor::spawn`], in `reuse` (a follow-up's worktree) when given; a task that asks
    /// for a worktree of its own and has none gets a new one.
    fn spawn_in(&self, request: SpawnRequest, reuse: Option<Worktree>) -> Result<TaskId> {
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

        let name = task_name(&request.name, &request.prompt);
        let new_worktree = request.options.worktree && reuse.is_none();
        // A task in a worktree of its own: the repository is checked before it takes an id,
        // and the worktree made before it is admitted (its folder is new, so always free).
        let made = if new_worktree {
            let base = worktree::Base::of(&project)?;
            let id = inner.history.allocate_id()?;
            match worktree::create(&inner.history.worktrees_dir(), base, id, &name) {
                Ok(made) => Some((id, made)),
                Err(e) => {
                    let _ = inner.history.remove(id);
                    return Err(e);
                }
            }
        } else {
            None
        };
        let undo = |id: TaskId| {
            let _ = inner.history.remove(id);
            if let Some((_, made)) = &made {
                if let Err(e) = worktree::remove(made, false) {
                    tracing::warn!("task {id}: could not remove its new worktree: {e}");
                }
            }
        };
        let worktree = reuse.or_else(|| made.as_ref().map(|(_, w)| w.clone()));
        let work_dir = worktree.as_ref().map_or(project.clone(), |w| w.dir.clone());

        // Deciding whether the task starts and making it count are one step.
        let _admission = lock(&inner.admission);
        // The folder first: a refused task takes no id.
        let mut project_lock = match ProjectLock::take(&inner.history.locks_dir(), &work_dir) {
            Ok(lock) => Some(lock),
            Err(Error::ProjectBusy { .. }) if request.queue => None,
            Err(e) => {
                if let Some((id, _)) = &made {
                    undo(*id);
                }
                return Err(e);
            }
        };
        let id = match &made {
            Some((id, _)) => *id,
            None => inner.history.allocate_id()?,
        };
        if let Some(held) = project_lock.as_mut() {
            if let Err(e) = held.hold_for(id) {
                undo(id);
                return Err(e);
            }
        }
        let project_lock =
            project_lock.filter(|_| !self.over_limit(&config) && !self.queued_in(&work_dir, id));
        let record = TaskRecord {
            id,
            name,
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
            worktree,
        };
        if let Err(e) = inner.history.save(&record) {
            undo(id);
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
            tracing::info!("task {id} queued for {}", record.work_dir().display());
            return Ok(id);
        };
        tracing::info!("task {id} spawned in {}", record.work_dir().display());
        if let Err(e) = self.launch(record, project_lock, config, agent, cancel, done_tx) {
            lock_tasks(inner).remove(&id);
            undo(id);
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
        // A worktree task's follow-up goes on in the same worktree, on the same branch.
        let worktree = match record.worktree.clone() {
            Some(Worktree {
                continued_by: Some(to),
                ..
            }) => return Err(Error::WorktreeMoved { id, to }),
            Some(w) if !w.state.is_present() => {
                return Err(Error::WorktreeGone {
                    id,
                    state: w.state.as_str(),
                })
            }
            Some(w) => Some(Worktree {
                state: WorktreeState::Open,
                merged_into: None,
                note: None,
                ..w
            }),
            None => None,
        };
        let follow_up = self.spawn_in(
            SpawnRequest {
                name: format!(
                    "{} (follow-up)",
                    record.name.trim_end_matches(" (follow-up)")
                ),
                prompt,
                project_dir: record.project_dir,
                options,
                follow_up_of: Some(id),
                queue: false,
            },
            worktree.clone(),
        )?;
        if worktree.is_some() {
            self.set_worktree(id, |w| w.continued_by = Some(follow_up))?;
        }
        Ok(follow_up)
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

    /// Forgets a finished task: its history and log are deleted (the transcript file in the
    /// project stays). Refused while it runs.
    pub fn cleanup(&self, id: TaskId) -> Result<()> {
        // Its worktree may hold work nobody merged: the user decides about it first.
        if let Some(record) = self.get(id).filter(|r| !r.status.is_active()) {
            if let Some(w) = record.worktree.filter(|w| w.state.is_present()) {
                return Err(Error::WorktreeOpen { id, path: w.path });
            }
        }
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
    /// [`KEPT_RINGS`](crate::KEPT_RINGS) finished ones.
    pub fn rings_held(&self) -> usize {
        lock_tasks(&self.inner)
            .values()
            .filter(|s| s.ring.is_some())
            .count()
    }

    /// How many tasks are held in memory: the active ones, and at most
    /// [`KEPT_RINGS`](crate::KEPT_RINGS) finished ones; the rest of the history is read from disk when asked for.
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

pub(crate) fn canonical_project(path: &Path) -> Result<std::path::PathBuf> {
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
