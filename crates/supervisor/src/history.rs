//! The task history in the data dir, shared by every Tasktray process of a user.
//!
//! ```text
//! <data>/
//!   state.lock          flock'd while an id is taken
//!   next-id             the next task id
//!   tasks/<id>/task.json    the task's record, with a format version, replaced atomically
//!   tasks/<id>/output.log   the raw output lines, appended as they arrive
//!   tasks/<id>/prompt.txt   the prompt, when it goes to the agent on stdin
//!   locks/<name>-<hash>.lock  one per project folder (see `lock`)
//!   index.sqlite        one row per task, for lists and search (see `index`)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::{self, Index, Opened};
use crate::model::{TaskId, TaskPage, TaskQuery, TaskRecord, TaskStatus, MAX_PAGE};

/// The version of `task.json`. A change of format bumps it and keeps a reader for the old one;
/// `tests/fixtures/` holds a file of each released version.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct StoredRef<'a> {
    version: u32,
    #[serde(flatten)]
    task: &'a TaskRecord,
}

#[derive(Deserialize)]
struct Stored {
    version: u32,
    #[serde(flatten)]
    task: TaskRecord,
}

/// The data dir and its layout.
#[derive(Debug, Clone)]
pub struct History {
    root: PathBuf,
    index: Arc<Index>,
}

impl History {
    /// Opens (and creates) the data dir; fails with a clear error if it cannot be written.
    pub fn open(root: &Path) -> Result<Self> {
        let unusable = |source| Error::DataDir {
            path: root.to_path_buf(),
            source,
        };
        private_dir(root).map_err(unusable)?;
        // One canonical spelling, so every process derives the same markers and lock names.
        let root = fs::canonicalize(root).map_err(unusable)?;
        for dir in [root.join("tasks"), root.join("locks")] {
            private_dir(&dir).map_err(|source| Error::DataDir {
                path: dir.clone(),
                source,
            })?;
        }
        // Creating a directory can succeed on a read-only mount; a real write tells. The probe
        // has a unique name: several processes may open the history at the same instant.
        tempfile::Builder::new()
            .prefix(".write-test")
            .tempfile_in(&root)
            .and_then(|mut probe| probe.write_all(b"ok"))
            .map_err(|source| Error::DataDir {
                path: root.clone(),
                source,
            })?;
        let (index, opened) = Index::open(&root).map_err(Error::from)?;
        let history = History {
            root,
            index: Arc::new(index),
        };
        if opened == Opened::Empty {
            let started = std::time::Instant::now();
            let indexed = history.reconcile()?;
            if indexed > 0 {
                tracing::info!(
                    "indexed {indexed} tasks of the history in {:?}",
                    started.elapsed()
                );
            }
        }
        Ok(history)
    }

    /// Brings the index up to date with the task folders (see `index`): what another
    /// process, an older Tasktray or a crash left unindexed is read. Hosts call it once when
    /// they start. Returns how many tasks were indexed again or dropped.
    pub fn reconcile(&self) -> Result<usize> {
        let folders = self.task_ids();
        self.counter_past(&folders)?;
        let on_disk: Vec<(TaskId, index::Stamp)> = folders
            .into_iter()
            .filter_map(|id| Some((id, index::stamp_of(&self.record_path(id))?)))
            .collect();
        let changed = self.index.reconcile(&on_disk, |id| {
            let path = self.record_path(id);
            let bytes = fs::read(&path).ok()?;
            match decode(&bytes) {
                Ok(record) => Some((record, bytes)),
                Err(e) => {
                    tracing::warn!("skipping task {id} in the history: {e}");
                    None
                }
            }
        })?;
        Ok(changed)
    }

    /// The ids of the task folders, in no order.
    fn task_ids(&self) -> Vec<TaskId> {
        match fs::read_dir(self.root.join("tasks")) {
            Ok(dir) => dir
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok().map(TaskId))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn record_path(&self, id: TaskId) -> PathBuf {
        self.task_dir(id).join("task.json")
    }

    /// One page of the tasks that match `query`, newest first, from the index.
    pub fn list(&self, query: &TaskQuery) -> Result<TaskPage> {
        let (rows, next_cursor, total) = self.index.page(query)?;
        Ok(TaskPage {
            tasks: index::decode_page(rows, decode),
            next_cursor,
            total,
        })
    }

    /// The statuses the index holds for those of `ids` that match `query` but for its status.
    pub(crate) fn indexed_statuses(
        &self,
        query: &TaskQuery,
        ids: &[TaskId],
    ) -> Result<Vec<(TaskId, String)>> {
        Ok(self.index.statuses(query, ids)?)
    }

    /// Every task that matches `query` (its cursor and limit aside), newest first.
    pub fn list_all(&self, query: &TaskQuery) -> Result<Vec<TaskRecord>> {
        let mut query = TaskQuery {
            limit: Some(MAX_PAGE),
            before: None,
            ..query.clone()
        };
        let mut all = Vec::new();
        loop {
            let page = self.list(&query)?;
            all.extend(page.tasks);
            match page.next_cursor {
                Some(next) => query.before = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Every task that has not finished (queued, pending, running, waiting), newest first.
    pub fn active(&self) -> Result<Vec<TaskRecord>> {
        self.list_all(&TaskQuery {
            status: TaskStatus::ALL
                .into_iter()
                .filter(|s| s.is_active())
                .collect(),
            ..TaskQuery::default()
        })
    }

    /// The tasks whose name contains `needle`, ignoring case, newest first, from the index.
    pub fn find_by_name(&self, needle: &str) -> Result<Vec<TaskRecord>> {
        let rows = self.index.named(&needle.to_lowercase())?;
        Ok(index::decode_page(rows, decode))
    }

    /// The project folders of the latest tasks, newest first, each once.
    pub fn recent_projects(&self, count: usize) -> Result<Vec<PathBuf>> {
        Ok(self.index.recent_projects(count)?)
    }

    /// How many tasks the history holds.
    pub fn len(&self) -> Result<u64> {
        Ok(self.index.len()?)
    }

    /// Whether the history holds no task.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn task_dir(&self, id: TaskId) -> PathBuf {
        self.root.join("tasks").join(id.to_string())
    }

    pub fn log_path(&self, id: TaskId) -> PathBuf {
        self.task_dir(id).join("output.log")
    }

    pub fn prompt_path(&self, id: TaskId) -> PathBuf {
        self.task_dir(id).join("prompt.txt")
    }

    /// Where tasks' own git worktrees are made, one folder per task named by its id.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join("worktrees")
    }

    pub(crate) fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// Takes the next id, under a file lock so concurrent processes never get the same one.
    /// The counter only grows: removing a task never frees its id.
    pub fn allocate_id(&self) -> Result<TaskId> {
        let _guard = self.lock_counter()?;
        let counter = self.root.join("next-id");
        // Never below what the index holds; a counter that was lost or damaged is rebuilt
        // from the folders (and `reconcile` moves it past folders it does not count).
        let next = match self.read_counter()? {
            Some(stored) => stored.max(self.index.max_id().unwrap_or(0) + 1),
            None => self.max_existing_id() + 1,
        }
        .max(1);
        write_atomic(&counter, format!("{}\n", next + 1).as_bytes())?;
        let id = TaskId(next);
        let dir = self.task_dir(id);
        private_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
        Ok(id)
    }

    fn lock_counter(&self) -> Result<Flock<File>> {
        let lock_path = self.root.join("state.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE_FILE)
            .open(&lock_path)
            .map_err(|e| Error::io("open", &lock_path, e))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| Error::io("lock", &lock_path, errno.into()))
    }

    fn read_counter(&self) -> Result<Option<u64>> {
        let counter = self.root.join("next-id");
        match fs::read_to_string(&counter) {
            Ok(s) => Ok(s.trim().parse::<u64>().ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &counter, e)),
        }
    }

    /// Moves the id counter past every task folder, so no id is taken twice even when the
    /// counter fell behind them (a damaged record the index does not hold, a restored backup).
    fn counter_past(&self, folders: &[TaskId]) -> Result<()> {
        let Some(highest) = folders.iter().map(|id| id.0).max() else {
            return Ok(());
        };
        let _guard = self.lock_counter()?;
        if self.read_counter()?.is_some_and(|next| next > highest) {
            return Ok(());
        }
        write_atomic(
            &self.root.join("next-id"),
            format!("{}\n", highest + 1).as_bytes(),
        )
    }

    /// The id the next task will get, as the counter says now (read without the lock: for
    /// noticing tasks that other processes added, not for allocating).
    pub fn peek_next_id(&self) -> Option<TaskId> {
        let counter = self.root.join("next-id");
        let stored = fs::read_to_string(counter).ok()?;
        stored.trim().parse().ok().map(TaskId)
    }

    fn max_existing_id(&self) -> u64 {
        self.task_ids()
            .into_iter()
            .map(|id| id.0)
            .max()
            .unwrap_or(0)
    }

    /// Writes a task's record atomically.
    pub fn save(&self, task: &TaskRecord) -> Result<()> {
        let json = serde_json::to_vec_pretty(&StoredRef {
            version: FORMAT_VERSION,
            task,
        })
        .map_err(|e| Error::io("encode", self.task_dir(task.id), e.into()))?;
        let path = self.record_path(task.id);
        write_atomic(&path, &json)?;
        // The record is saved; an index that misses it is repaired by the next `reconcile`.
        let stamp = index::stamp_of(&path).unwrap_or((0, 0));
        if let Err(e) = self.index.put(task, &json, stamp) {
            tracing::warn!("task {}: {e}", task.id);
        }
        Ok(())
    }

    /// Reads one task's record.
    pub fn load(&self, id: TaskId) -> Result<TaskRecord> {
        let path = self.task_dir(id).join("task.json");
        match fs::read(&path) {
            Ok(bytes) => decode(&bytes).map_err(|e| Error::io("read", &path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::TaskNotFound { id }),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Reads every task's record from its folder, oldest first (not from the index: for
    /// checks and tools; lists use [`History::list`]). A damaged or unknown file is skipped
    /// with a warning: one bad file never hides the rest of the history.
    pub fn load_all(&self) -> Vec<TaskRecord> {
        let mut ids = self.task_ids();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| match self.load(id) {
                Ok(task) => Some(task),
                // A task dir without a record: an id taken by a spawn that failed validation
                // later, or a record not written yet by another process.
                Err(Error::TaskNotFound { .. }) => None,
                Err(e) => {
                    tracing::warn!("skipping task {id} in the history: {e}");
                    None
                }
            })
            .collect()
    }

    /// Deletes a task's files and its row of the index.
    pub fn remove(&self, id: TaskId) -> Result<()> {
        let dir = self.task_dir(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &dir, e)),
        }
        self.index.remove(id)?;
        Ok(())
    }

    /// The whole output log as text (invalid UTF-8 replaced).
    pub fn read_log(&self, id: TaskId) -> Result<String> {
        let path = self.log_path(id);
        match fs::read(&path) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// The last `n` lines of the log and the number of lines before them.
    pub fn read_log_tail(&self, id: TaskId, n: usize) -> Result<(Vec<String>, u64)> {
        let total = self.log_line_count(id)?;
        let skip = total.saturating_sub(n as u64);
        Ok((self.read_log_lines(id, skip, total)?, skip))
    }

    /// How many lines the log holds (a last line without a newline counts).
    pub fn log_line_count(&self, id: TaskId) -> Result<u64> {
        let path = self.log_path(id);
        match File::open(&path) {
            Ok(mut file) => count_lines(&mut file).map_err(|e| Error::io("read", &path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::io("open", &path, e)),
        }
    }

    /// Lines `start..end` of the log (line `i` is the output line with sequence number `i`),
    /// invalid UTF-8 replaced.
    pub fn read_log_lines(&self, id: TaskId, start: u64, end: u64) -> Result<Vec<String>> {
        let path = self.log_path(id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("open", &path, e)),
        };
        let mut lines = Vec::new();
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let mut index = 0u64;
        while index < end {
            buf.clear();
            let read = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io("read", &path, e))?;
            if read == 0 {
                break;
            }
            if index >= start {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                lines.push(crate::text::lossy(&buf).into_owned());
            }
            index += 1;
        }
        Ok(lines)
    }
}

fn count_lines(file: &mut File) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut count, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        count += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
    }
    // A last line without a newline still counts.
    Ok(count + u64::from(last != b'\n'))
}

pub(crate) fn decode(bytes: &[u8]) -> io::Result<TaskRecord> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(io::Error::from)?;
    if stored.version > FORMAT_VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("written by a newer Tasktray (format {})", stored.version),
        ));
    }
    Ok(stored.task)
}

/// Mode of every file Tasktray writes in the data dir, whatever the umask: only the user reads
/// prompts, output and settings.
pub(crate) const PRIVATE_FILE: u32 = 0o600;

/// Mode of the data dir and its folders.
pub(crate) const PRIVATE_DIR: u32 = 0o700;

/// Creates a folder (and its missing parents) readable by the user only.
pub(crate) fn private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(path)
}

/// Writes a file (mode 0600) atomically: a temp file in the same dir, fsync, rename, fsync of
/// the folder, so after a crash the file is the old one or the new one, never missing.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // A NamedTempFile is created 0600, and the rename keeps that.
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("create a file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync the folder of", path, e))?;
    Ok(())
}

/// Writes a new private file (mode 0600) in one go.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_FILE)
        .open(path)?;
    file.write_all(bytes)
}
