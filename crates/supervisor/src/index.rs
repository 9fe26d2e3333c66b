//! The history's index: `<data>/index.sqlite`, one row per task, so listing, filtering, paging
//! and searching do not read every `task.json`.
//!
//! The task folders stay the truth; the index is a cache of them, rebuilt from them when it is
//! missing, damaged or of another version, and brought up to date by [`Index::reconcile`] (a
//! stat of each `task.json`, compared with the size and time the row was made from) when a
//! host starts. Every process that saves a record updates its row right after, so hosts and
//! readers share one index; SQLite's WAL lets them read while one writes.
//!
//! A row keeps the record as `task.json` holds it (a page is read from the index alone), the
//! fields a query filters on, and the lowercased text a search looks in.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};

use crate::model::{TaskId, TaskQuery, TaskRecord, TaskStatus};

/// The layout of the index. A different one is dropped and rebuilt from the task folders.
const INDEX_VERSION: i64 = 1;

/// How long a statement waits for another process's write before it gives up.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// What a row was made from: the size and modification time of its `task.json`.
pub(crate) type Stamp = (u64, i64);

#[derive(Debug)]
pub(crate) struct Index {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// A failure of the index, with what it was doing.
#[derive(Debug, thiserror::Error)]
#[error("the task index {path}: {source}")]
pub(crate) struct IndexError {
    path: PathBuf,
    #[source]
    source: rusqlite::Error,
}

type IndexResult<T> = std::result::Result<T, IndexError>;

impl From<IndexError> for crate::error::Error {
    fn from(e: IndexError) -> Self {
        crate::error::Error::io(
            "use the task index",
            e.path,
            std::io::Error::other(e.source),
        )
    }
}

/// What [`Index::open`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opened {
    /// An index of this version: rows may only lag behind the folders.
    Current,
    /// A new, empty index (none, damaged, or another version): it needs every task.
    Empty,
}

impl Index {
    /// Opens the index in `data_dir`, creating it (mode 0600) or starting it again when it is
    /// damaged or of another version.
    pub(crate) fn open(data_dir: &Path) -> IndexResult<(Self, Opened)> {
        let path = data_dir.join("index.sqlite");
        match Self::open_at(&path) {
            Ok(opened) => Ok(opened),
            Err(e) => {
                tracing::warn!("{e}: building it again from the task folders");
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = fs::remove_file(file);
                }
                Self::open_at(&path).map(|(index, _)| (index, Opened::Empty))
            }
        }
    }

    fn open_at(path: &Path) -> IndexResult<(Self, Opened)> {
        let fail = |source| IndexError {
            path: path.to_path_buf(),
            source,
        };
        // Created private: the index holds prompts and results.
        if !path.exists() {
            if let Err(e) = crate::history::write_private(path, b"") {
                tracing::warn!("cannot create {}: {e}", path.display());
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        conn.busy_timeout(BUSY_WAIT).map_err(fail)?;
        // WAL: readers never wait for a writer. NORMAL: a commit is not synced to disk; what a
        // crash loses is found again by `reconcile`, the task folders being the truth.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // The first indexing of a long history is one large transaction: the WAL is cut back
        // after it rather than keeping its size on disk.
        conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)
            .map_err(fail)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        let opened = if version == INDEX_VERSION {
            // A damaged file can still answer the pragma: look at the table too.
            conn.query_row("SELECT count(*) FROM tasks WHERE id < 0", [], |_| Ok(()))
                .map_err(fail)?;
            Opened::Current
        } else {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 DROP TABLE IF EXISTS tasks;
                 CREATE TABLE tasks (
                     id INTEGER PRIMARY KEY,
                     status TEXT NOT NULL,
                     project TEXT NOT NULL,
                     name TEXT NOT NULL,
                     haystack TEXT NOT NULL,
                     size INTEGER NOT NULL,
                     mtime INTEGER NOT NULL,
                     record BLOB NOT NULL
                 );
                 CREATE INDEX tasks_by_status ON tasks (status, id);
                 PRAGMA user_version = {INDEX_VERSION};
                 COMMIT;"
            ))
            .map_err(fail)?;
            Opened::Empty
        };
        Ok((
            Index {
                path: path.to_path_buf(),
                conn: Mutex::new(conn),
            },
            opened,
        ))
    }

    fn fail(&self, source: rusqlite::Error) -> IndexError {
        IndexError {
            path: self.path.clone(),
            source,
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        crate::table::lock(&self.conn)
    }

    /// Writes (or replaces) the row of one task: `json` is its `task.json` as written.
    pub(crate) fn put(&self, task: &TaskRecord, json: &[u8], stamp: Stamp) -> IndexResult<()> {
        put(&self.conn(), task, json, stamp).map_err(|e| self.fail(e))
    }

    /// Removes the row of one task.
    pub(crate) fn remove(&self, id: TaskId) -> IndexResult<()> {
        self.conn()
            .execute("DELETE FROM tasks WHERE id = ?1", [id.0 as i64])
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Brings the index up to date with the task folders: a folder whose `task.json` differs
    /// from what its row was made from is read again (with `load`), a row without a folder is
    /// removed. Returns how many rows changed.
    pub(crate) fn reconcile(
        &self,
        on_disk: &[(TaskId, Stamp)],
        load: impl Fn(TaskId) -> Option<(TaskRecord, Vec<u8>)>,
    ) -> IndexResult<usize> {
        let indexed: HashMap<i64, Stamp> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT id, size, mtime FROM tasks")
                .map_err(|e| self.fail(e))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        (row.get::<_, i64>(1)? as u64, row.get(2)?),
                    ))
                })
                .map_err(|e| self.fail(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))?
        };
        let stale: Vec<(TaskId, Stamp)> = on_disk
            .iter()
            .filter(|(id, stamp)| indexed.get(&(id.0 as i64)) != Some(stamp))
            .copied()
            .collect();
        let present: std::collections::HashSet<i64> =
            on_disk.iter().map(|(id, _)| id.0 as i64).collect();
        let gone: Vec<i64> = indexed
            .keys()
            .filter(|id| !present.contains(id))
            .copied()
            .collect();
        if stale.is_empty() && gone.is_empty() {
            return Ok(0);
        }
        // Read outside the transaction: a whole history takes a while.
        let fresh: Vec<(TaskRecord, Vec<u8>, Stamp)> = stale
            .iter()
            .filter_map(|(id, stamp)| load(*id).map(|(record, json)| (record, json, *stamp)))
            .collect();
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.fail(e))?;
        for id in &gone {
            tx.execute("DELETE FROM tasks WHERE id = ?1", [id])
                .map_err(|e| self.fail(e))?;
        }
        for (record, json, stamp) in &fresh {
            put(&tx, record, json, *stamp).map_err(|e| self.fail(e))?;
        }
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(gone.len() + fresh.len())
    }

    /// One page of the tasks that match `query`, newest first, as stored (`task.json` bytes).
    pub(crate) fn page(
        &self,
        query: &TaskQuery,
    ) -> IndexResult<(Vec<Vec<u8>>, Option<TaskId>, u64)> {
        let (filter, values) = where_clause(query);
        let conn = self.conn();
        let total: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM tasks {filter}"),
                params_from_iter(values.iter()),
                |row| row.get(0),
            )
            .map_err(|e| self.fail(e))?;
        // One more than the page: whether there is a next page.
        let size = query.page_size() as usize;
        let (filter, mut values) = where_clause_before(query);
        values.push(Value::Int(size as i64 + 1));
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT id, record FROM tasks {filter} ORDER BY id DESC LIMIT ?"
            ))
            .map_err(|e| self.fail(e))?;
        let mut rows: Vec<(i64, Vec<u8>)> = stmt
            .query_map(params_from_iter(values.iter()), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.fail(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.fail(e))?;
        let next = (rows.len() > size).then(|| {
            rows.truncate(size);
            TaskId(rows.last().map_or(0, |(id, _)| *id) as u64)
        });
        Ok((
            rows.into_iter().map(|(_, record)| record).collect(),
            next,
            total as u64,
        ))
    }

    /// The tasks whose name contains `needle` (lowercased), newest first, as stored.
    pub(crate) fn named(&self, needle: &str) -> IndexResult<Vec<Vec<u8>>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT record FROM tasks WHERE instr(name, ?1) > 0 ORDER BY id DESC")
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([needle], |row| row.get::<_, Vec<u8>>(0))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The statuses stored for those of `ids` that match `query` but for its status, its
    /// cursor and its limit.
    pub(crate) fn statuses(
        &self,
        query: &TaskQuery,
        ids: &[TaskId],
    ) -> IndexResult<Vec<(TaskId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (filter, mut values) = where_clause(&TaskQuery {
            status: Vec::new(),
            ..query.clone()
        });
        let marks = vec!["?"; ids.len()].join(", ");
        let filter = match filter.is_empty() {
            true => format!("WHERE id IN ({marks})"),
            false => format!("{filter} AND id IN ({marks})"),
        };
        values.extend(ids.iter().map(|id| Value::Int(id.0 as i64)));
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("SELECT id, status FROM tasks {filter}"))
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), |row| {
                Ok((TaskId(row.get::<_, i64>(0)? as u64), row.get(1)?))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The project folders of the latest tasks, newest first, each once.
    pub(crate) fn recent_projects(&self, count: usize) -> IndexResult<Vec<PathBuf>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT project FROM tasks GROUP BY project ORDER BY max(id) DESC LIMIT ?1",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map([count as i64], |row| row.get::<_, String>(0))
            .map_err(|e| self.fail(e))?;
        rows.map(|r| r.map(PathBuf::from))
            .collect::<Result<_, _>>()
            .map_err(|e| self.fail(e))
    }

    /// The highest task id in the index.
    pub(crate) fn max_id(&self) -> IndexResult<u64> {
        self.conn()
            .query_row("SELECT max(id) FROM tasks", [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .optional()
            .map(|id| id.flatten().unwrap_or(0) as u64)
            .map_err(|e| self.fail(e))
    }

    /// How many tasks the index holds.
    pub(crate) fn len(&self) -> IndexResult<u64> {
        self.conn()
            .query_row("SELECT count(*) FROM tasks", [], |row| row.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.fail(e))
    }
}

fn put(conn: &Connection, task: &TaskRecord, json: &[u8], stamp: Stamp) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO tasks (id, status, project, name, haystack, size, mtime, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        task.id.0 as i64,
        task.status.as_str(),
        task.project_dir.to_string_lossy(),
        task.name.to_lowercase(),
        haystack(task),
        stamp.0 as i64,
        stamp.1,
        json,
    ])
    .map(drop)
}

/// What a search looks in: the name, the prompt, the project folder and the result, lowercased.
fn haystack(task: &TaskRecord) -> String {
    let mut text = String::new();
    for part in [
        task.name.as_str(),
        task.prompt.as_str(),
        &task.project_dir.to_string_lossy(),
        task.result.as_ref().map_or("", |r| r.text.as_str()),
    ] {
        text.push_str(&part.to_lowercase());
        text.push('\n');
    }
    text
}

#[derive(Debug)]
enum Value {
    Int(i64),
    Text(String),
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Value::Int(n) => n.to_sql(),
            Value::Text(s) => s.to_sql(),
        }
    }
}

/// `WHERE …` for the statuses and search words of a query (not its cursor), and its values.
fn where_clause(query: &TaskQuery) -> (String, Vec<Value>) {
    let mut terms = Vec::new();
    let mut values = Vec::new();
    if !query.status.is_empty() {
        let marks = vec!["?"; query.status.len()].join(", ");
        terms.push(format!("status IN ({marks})"));
        values.extend(
            query
                .status
                .iter()
                .map(|s: &TaskStatus| Value::Text(s.as_str().to_owned())),
        );
    }
    for word in query.words() {
        // instr, not LIKE: no wildcard in the word needs escaping.
        terms.push("instr(haystack, ?) > 0".to_owned());
        values.push(Value::Text(word));
    }
    let clause = if terms.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", terms.join(" AND "))
    };
    (clause, values)
}

/// [`where_clause`] with the query's cursor.
fn where_clause_before(query: &TaskQuery) -> (String, Vec<Value>) {
    let (clause, mut values) = where_clause(query);
    let Some(before) = query.before else {
        return (clause, values);
    };
    values.push(Value::Int(before.0.min(i64::MAX as u64) as i64));
    let clause = if clause.is_empty() {
        "WHERE id < ?".to_owned()
    } else {
        format!("{clause} AND id < ?")
    };
    (clause, values)
}

/// The stamp of a `task.json`, or none when it cannot be read.
pub(crate) fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.len(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec()))
}

/// The page's records, decoded; one that cannot be is skipped with a warning.
pub(crate) fn decode_page(
    rows: Vec<Vec<u8>>,
    decode: impl Fn(&[u8]) -> std::io::Result<TaskRecord>,
) -> Vec<TaskRecord> {
    rows.into_iter()
        .filter_map(|bytes| match decode(&bytes) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!("skipping a task of the index: {e}");
                None
            }
        })
        .collect()
}
