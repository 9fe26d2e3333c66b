//! One running task per project folder, across every Tasktray process of a user.
//!
//! Each project has a lock file in the data dir, named from its canonical path. A task holds
//! an exclusive `flock` on it while it runs and writes its id into it, so a refused spawn can
//! say which task is in the way. `flock` belongs to the open file: it is released when the
//! holder drops it or when its process dies, so a crash never leaves a project locked.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};
use crate::model::TaskId;

/// A held project lock; dropping it releases the project.
#[derive(Debug)]
pub struct ProjectLock {
    _file: Flock<File>,
    path: PathBuf,
}

impl ProjectLock {
    /// Takes the lock of `project` (a canonical path) for `task`, or reports the task that
    /// holds it. Never blocks.
    pub fn acquire(locks_dir: &Path, project: &Path, task: TaskId) -> Result<Self> {
        let mut lock = ProjectLock::take(locks_dir, project)?;
        lock.hold_for(task)?;
        Ok(lock)
    }

    /// Writes the task that holds the lock into it, for a refused spawn to name.
    pub fn hold_for(&mut self, task: TaskId) -> Result<()> {
        let file = &mut *self._file;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{task}"))
            .and_then(|()| file.flush())
            .map_err(|e| Error::io("write the project lock", &self.path, e))
    }

    /// Takes the lock of `project` before its task has an id ([`ProjectLock::hold_for`] says
    /// it then), so a refused spawn uses up no id.
    pub fn take(locks_dir: &Path, project: &Path) -> Result<Self> {
        let path = locks_dir.join(lock_name(project));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(crate::history::PRIVATE_FILE)
            .open(&path)
            .map_err(|e| Error::io("open the project lock", &path, e))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => Ok(ProjectLock {
                _file: locked,
                path,
            }),
            Err((mut file, Errno::EWOULDBLOCK)) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                // The holder writes its id right after locking; an empty file means we looked
                // in between, and the id is not known yet.
                let task_id = holder.trim().parse().unwrap_or(TaskId(0));
                Err(Error::ProjectBusy {
                    task_id,
                    project: project.to_path_buf(),
                })
            }
            Err((_, errno)) => Err(Error::io("lock the project", &path, errno.into())),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `<last component>-<FNV-1a of the whole path>.lock`: readable, and stable across builds
/// (std's hasher makes no such promise), so the app and `taskctl` always agree.
fn lock_name(project: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in project.as_os_str().as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let base: String = project
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    format!("{base}-{hash:016x}.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_task_id_until_release() {
        let dir = tempfile::tempdir().expect("temp dir");
        let project = Path::new("/some/project");
        let first = ProjectLock::acquire(dir.path(), project, TaskId(7)).expect("free project");
        match ProjectLock::acquire(dir.path(), project, TaskId(8)) {
            Err(Error::ProjectBusy { task_id, .. }) => assert_eq!(task_id, TaskId(7)),
            other => panic!("expected ProjectBusy, got {other:?}"),
        }
        // Another project is independent.
        ProjectLock::acquire(dir.path(), Path::new("/some/other"), TaskId(9))
            .expect("other project");
        drop(first);
        ProjectLock::acquire(dir.path(), project, TaskId(8)).expect("released project");
    }

    #[test]
    fn lock_names_differ_per_path_and_stay_readable() {
        let a = lock_name(Path::new("/home/u/my proj"));
        assert!(a.starts_with("myproj-") && a.ends_with(".lock"), "{a}");
        assert_ne!(a, lock_name(Path::new("/home/v/my proj")));
    }
}
