//! Following the tasks of other hosts live. Two processes may run tasks on one data dir: the
//! app and a headless `taskctl run --local`. Each host runs its own tasks; this one watches the
//! others' through the shared history, so its views are live, not a snapshot:
//! - a task another process adds shows up (the id counter is read, not the whole history);
//! - a watched task's record is re-read, and a change becomes the event the owner sent
//!   (started, running ↔ waiting, completed, failed, cancelled);
//! - its log is tailed from where the last look ended: new complete lines go to its ring and
//!   out as output events, numbered as the owner numbered them (line `i` of the log is `i`);
//! - a task whose owner died while it ran becomes `interrupted` (what was left of its tree is
//!   killed); a queued task whose owner died is taken over, and starts here.
//!
//! Every [`EVERY`], by one loop per supervisor; a look costs a stat of the counter plus, per
//! watched task, one small file read and one read of what its log grew by.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::{Event, OutputLine, Stream, TaskId, TaskRecord, TaskStatus};
use crate::procfs;
use crate::ring::OutputRing;
use crate::table::{lock, lock_tasks, Slot};
use crate::Supervisor;

/// How often other hosts' tasks are looked at.
pub const EVERY: Duration = Duration::from_millis(500);

/// How long a task folder without a record is taken for a spawn in progress.
const WRITE_WINDOW: Duration = Duration::from_secs(10);

/// Bytes of a log read in one look; a task that wrote more is caught up over the next looks.
const READ_AT_MOST: u64 = 4 * 1024 * 1024;

/// Where the watcher is in one task's log.
#[derive(Debug)]
struct Tail {
    /// Bytes of the log consumed (up to the end of the last complete line).
    offset: u64,
    ring: Arc<Mutex<OutputRing>>,
}

#[derive(Debug, Default)]
pub(crate) struct Watcher {
    tails: HashMap<TaskId, Tail>,
    /// Ids below this were looked for in the history already.
    seen_up_to: u64,
}

impl Supervisor {
    pub(crate) fn start_watching(&self) {
        let weak = Arc::downgrade(&self.inner);
        let root = self.inner.root.clone();
        let mut watcher = Watcher {
            tails: HashMap::new(),
            seen_up_to: self.history().peek_next_id().map_or(1, |id| id.0),
        };
        self.inner.tracker.spawn_on(
            async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(EVERY) => {}
                        () = root.cancelled() => break,
                    }
                    let Some(inner) = weak.upgrade() else { break };
                    Supervisor { inner }.look(&mut watcher);
                }
            },
            &self.inner.runtime,
        );
    }

    /// One look at the other hosts' tasks.
    fn look(&self, watcher: &mut Watcher) {
        self.inner.let_go_of_finished();
        self.discover(watcher);
        let watched: Vec<TaskRecord> = lock_tasks(&self.inner)
            .values()
            .filter(|s| s.live.is_none() && s.record.status.is_active())
            .map(|s| s.record.clone())
            .collect();
        watcher
            .tails
            .retain(|id, _| watched.iter().any(|r| r.id == *id));
        for old in watched {
            self.look_at(watcher, old);
        }
    }

    /// Adds the tasks other processes spawned since the last look.
    fn discover(&self, watcher: &mut Watcher) {
        let Some(next) = self.history().peek_next_id() else {
            return;
        };
        for id in watcher.seen_up_to..next.0 {
            let id = TaskId(id);
            if lock_tasks(&self.inner).contains_key(&id) {
                continue;
            }
            let record = match self.history().load(id) {
                Ok(record) => record,
                // A record not written yet is looked for again next time, unless its folder
                // is gone (a spawn that was refused) or was left empty long ago (a crash).
                Err(_) if self.being_written(id) => return,
                Err(_) => {
                    watcher.seen_up_to = id.0 + 1;
                    continue;
                }
            };
            lock_tasks(&self.inner)
                .entry(id)
                .or_insert_with(|| Slot::held(record));
            let _ = self.inner.events.send(Event::Spawned { task: id });
            watcher.seen_up_to = id.0 + 1;
        }
        watcher.seen_up_to = watcher.seen_up_to.max(next.0);
    }

    /// Whether task `id`'s folder exists without a record for a short while: a spawn of
    /// another process between taking the id and saving the record.
    fn being_written(&self, id: TaskId) -> bool {
        std::fs::metadata(self.history().task_dir(id))
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age < WRITE_WINDOW))
    }

    fn look_at(&self, watcher: &mut Watcher, old: TaskRecord) {
        let id = old.id;
        let Ok(mut record) = self.history().load(id) else {
            return;
        };
        let owner_gone = record.owner.is_some_and(|o| !procfs::is_alive(o));
        if owner_gone && record.status == TaskStatus::Queued {
            // Its host went away before it started: it starts here.
            let slot = self.adopt_queued(record);
            if let Some(current) = lock_tasks(&self.inner).get_mut(&id) {
                *current = slot;
            }
            self.inner.queue_wake.notify_one();
            return;
        }
        if owner_gone {
            // Read again: the owner may have written its final record just before it exited.
            match self.history().load(id) {
                Ok(last) => record = last,
                Err(_) => return,
            }
        }
        self.tail(watcher, &record);
        if owner_gone && record.status.is_running() {
            tracing::warn!("task {id}: the process that ran it is gone: interrupted");
            self.kill_leftovers(&record);
            record.status = TaskStatus::Interrupted;
            record.finished_at_ms = Some(self.inner.clock.now_ms());
            record.error = Some("the program that ran this task stopped while it ran".into());
            self.inner.persist(&record);
        }
        if record == old {
            return;
        }
        let status = record.status;
        let reason = record
            .failure
            .clone()
            .or_else(|| record.error.clone())
            .unwrap_or_else(|| "the agent reported an error".into());
        if let Some(slot) = lock_tasks(&self.inner).get_mut(&id) {
            if slot.live.is_some() {
                return;
            }
            slot.record = record;
        }
        let event = match status {
            s if s == old.status => return,
            TaskStatus::Completed => Event::Completed { task: id },
            TaskStatus::Failed => Event::Failed { task: id, reason },
            TaskStatus::Cancelled => Event::Cancelled { task: id },
            TaskStatus::Running if old.status == TaskStatus::Pending => Event::Started { task: id },
            status => Event::StatusChanged { task: id, status },
        };
        if !status.is_active() {
            self.inner.keep_ring(id);
        }
        let _ = self.inner.events.send(event);
    }

    /// The tail of a watched task's log so far, up to its last complete line, as its ring.
    fn first_look(&self, id: TaskId, path: &std::path::Path) -> Option<Tail> {
        let all = std::fs::read(path).ok()?;
        let end = all.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let lines: Vec<&[u8]> = match end {
            0 => Vec::new(),
            end => all[..end - 1].split(|&b| b == b'\n').collect(),
        };
        let config = self.inner.config();
        let keep = lines.len().min(config.ring_lines);
        let before = (lines.len() - keep) as u64;
        let mut ring = OutputRing::new(config.ring_lines, config.ring_bytes).with_next_seq(before);
        for line in &lines[lines.len() - keep..] {
            ring.push(
                Stream::Stdout,
                Arc::from(crate::text::lossy(line).as_ref()),
                false,
            );
        }
        let ring = Arc::new(Mutex::new(ring));
        if let Some(slot) = lock_tasks(&self.inner).get_mut(&id) {
            slot.ring = Some(ring.clone());
        }
        Some(Tail {
            offset: end as u64,
            ring,
        })
    }

    /// Reads what a watched task's log grew by into its ring, as output events.
    fn tail(&self, watcher: &mut Watcher, record: &TaskRecord) {
        let id = record.id;
        let path = self.history().log_path(id);
        let Ok(mut file) = File::open(&path) else {
            return;
        };
        let tail = match watcher.tails.entry(id) {
            Entry::Occupied(tail) => tail.into_mut(),
            Entry::Vacant(vacant) => {
                if let Some(tail) = self.first_look(id, &path) {
                    vacant.insert(tail);
                }
                return;
            }
        };
        let mut grown = Vec::new();
        if file.seek(SeekFrom::Start(tail.offset)).is_err()
            || file.take(READ_AT_MOST).read_to_end(&mut grown).is_err()
        {
            return;
        }
        let Some(end) = grown.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        tail.offset += end as u64 + 1;
        let mut ring = lock(&tail.ring);
        let lines: Vec<OutputLine> = grown[..end]
            .split(|&b| b == b'\n')
            .map(|line| {
                let text = crate::text::lossy(line);
                ring.push(Stream::Stdout, Arc::from(text.as_ref()), false)
            })
            .collect();
        // Sent under the ring's lock, as a runner does, so an attach sees each line once.
        let _ = self.inner.events.send(Event::Output {
            task: id,
            lines: lines.into(),
        });
    }
}
