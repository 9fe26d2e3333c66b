//! What hosts read of the tasks: one record, pages of the history, the output held in memory
//! or on disk, and the live event stream. Tasks that have not finished are in the task table;
//! the rest comes from the history (its index for lists, the task folder for one task).

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::model::{Event, OutputLine, TaskId, TaskPage, TaskQuery, TaskRecord, TaskStatus};
use crate::ring::OutputRing;
use crate::table::{lock, lock_tasks, Slot};
use crate::Supervisor;

/// A live view of one task: the output so far and the events from right after it. Taken
/// under the task's output lock, so no line is missed or seen twice between the two.
#[derive(Debug)]
pub struct Attached {
    pub record: TaskRecord,
    pub snapshot: Vec<OutputLine>,
    pub events: broadcast::Receiver<Event>,
}

impl Supervisor {
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
        if query.status.is_empty() {
            let mut page = self.inner.history.list(query)?;
            self.as_held(&mut page.tasks);
            return Ok(page);
        }
        // A task held in memory may have a newer status than its index row, which then says
        // the status before: an active one (a task only ever leaves an active status). So the
        // index is asked for the active statuses too, with room for the held tasks, and each
        // task's status is the one it has now.
        let held = self.held_records();
        let size = query.page_size() as usize;
        let mut wide = query.clone();
        for status in TaskStatus::ALL.into_iter().filter(|s| s.is_active()) {
            if !wide.status.contains(&status) {
                wide.status.push(status);
            }
        }
        wide.limit = Some((size + held.len()) as u32);
        let mut page = self.inner.history.list(&wide)?;
        self.as_held(&mut page.tasks);
        page.tasks.retain(|r| query.status.contains(&r.status));
        if page.tasks.len() > size {
            page.tasks.truncate(size);
            page.next_cursor = page.tasks.last().map(|r| r.id);
        }
        page.total = self.total_now(query, &held)?;
        Ok(page)
    }

    /// How many tasks match `query` (which names statuses), with the held ones counted by
    /// their status now rather than by their index row's.
    fn total_now(&self, query: &TaskQuery, held: &[TaskRecord]) -> Result<u64> {
        let counted = self.inner.history.list(&TaskQuery {
            limit: Some(1),
            before: None,
            ..query.clone()
        })?;
        let ids: Vec<TaskId> = held.iter().map(|r| r.id).collect();
        let mut total = counted.total as i64;
        for (id, indexed) in self.inner.history.indexed_statuses(query, &ids)? {
            let now = held.iter().find(|r| r.id == id).map(|r| r.status);
            let was = query.status.iter().any(|s| s.as_str() == indexed);
            let is = now.is_some_and(|s| query.status.contains(&s));
            total += i64::from(is) - i64::from(was);
        }
        Ok(total.max(0) as u64)
    }

    /// The records of the tasks held in memory, as they are now.
    fn held_records(&self) -> Vec<TaskRecord> {
        lock_tasks(&self.inner)
            .values()
            .map(|s| s.record.clone())
            .collect()
    }

    /// The project folders of the latest tasks, newest first, each once.
    pub fn recent_projects(&self, count: usize) -> Result<Vec<std::path::PathBuf>> {
        self.inner.history.recent_projects(count)
    }

    /// Tasks whose name contains `needle`, ignoring case, newest first.
    pub fn find_by_name(&self, needle: &str) -> Vec<TaskRecord> {
        let lowered = needle.to_lowercase();
        self.read_indexed(self.inner.history.find_by_name(needle), |r| {
            r.name.to_lowercase().contains(&lowered)
        })
    }

    /// Every task, newest first. A long history is better read a page at a time with
    /// [`Supervisor::list`].
    pub fn all(&self) -> Vec<TaskRecord> {
        self.read_indexed(self.inner.history.list_all(&TaskQuery::default()), |_| true)
    }

    /// Records read from the index, those held in memory as they are now; if the index
    /// cannot be read, every task folder that passes `keep`, newest first.
    fn read_indexed(
        &self,
        read: Result<Vec<TaskRecord>>,
        keep: impl Fn(&TaskRecord) -> bool,
    ) -> Vec<TaskRecord> {
        let mut records = read.unwrap_or_else(|e| {
            tracing::warn!("{e}: reading every task folder instead");
            let mut all = self.inner.history.load_all();
            all.retain(keep);
            all.reverse();
            all
        });
        self.as_held(&mut records);
        records
    }

    /// Replaces the records of tasks held in memory by the current ones (the index may be a
    /// moment behind an active task).
    fn as_held(&self, records: &mut [TaskRecord]) {
        let tasks = lock_tasks(&self.inner);
        for record in records {
            if let Some(slot) = tasks.get(&record.id) {
                record.clone_from(&slot.record);
            }
        }
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
}
