//! Reviewing a finished worktree task and deciding what becomes of its work: merge it into the
//! branch it started from, keep its branch, or discard it. Each action holds the worktree's
//! folder lock (the one a running task holds), so it never races a follow-up running there,
//! in this process or another.

use std::path::Path;

use crate::error::{Error, Result};
use crate::history::History;
use crate::lock::ProjectLock;
use crate::model::{
    Event, MergeOutcome, RepoHead, Review, TaskId, TaskRecord, Worktree, WorktreeState,
};
use crate::table::lock_tasks;
use crate::worktree::{self, StrayWorktree};
use crate::Supervisor;

impl Supervisor {
    /// Where a worktree task in `folder` would start: its repository, branch and commit, and
    /// whether the folder has changes the worktree would not include.
    pub fn repo_head(&self, folder: &Path) -> Result<RepoHead> {
        let folder = crate::supervisor::canonical_project(folder)?;
        worktree::repo_head(&folder)
    }

    /// What a worktree task's branch changed: files with their diffs (bounded), commits.
    pub fn review(&self, id: TaskId) -> Result<Review> {
        let (_, worktree) = self.finished_worktree(id)?;
        worktree::review(id, &worktree)
    }

    /// The whole diff of a worktree task's branch as text, or of one file; `stat` for a
    /// summary of the files changed.
    pub fn diff(&self, id: TaskId, path: Option<&str>, stat: bool) -> Result<String> {
        let record = self.get(id).ok_or(Error::TaskNotFound { id })?;
        let worktree = record.worktree.ok_or(Error::NoWorktree { id })?;
        let paths: Vec<&str> = path.into_iter().collect();
        worktree::diff_text(&worktree, &paths, stat)
    }

    /// Merges a finished task's branch into the branch it started from, in the repository's
    /// main folder (which must be on that branch). What the agent left uncommitted is
    /// committed first. Refused, with nothing changed, on a conflict or when the main folder
    /// has uncommitted changes in the files the merge touches.
    pub fn merge(&self, id: TaskId, squash: bool) -> Result<MergeOutcome> {
        let (record, worktree, _held) = self.settle(id)?;
        let outcome = worktree::merge(id, &worktree, squash, &commit_message(&record))?;
        tracing::info!(
            "task {id}: {} merged into {} ({:?})",
            worktree.branch,
            outcome.into,
            outcome.kind
        );
        let into = outcome.into.clone();
        self.set_worktree(id, |w| {
            w.state = WorktreeState::Merged;
            w.merged_into = Some(into);
        })?;
        Ok(outcome)
    }

    /// Removes a finished task's worktree and its branch. Refused without `force` while the
    /// branch holds work no other branch has (a squash-merged branch counts as merged) or the
    /// worktree has uncommitted changes.
    pub fn discard(&self, id: TaskId, force: bool) -> Result<()> {
        let (_, worktree) = self.finished_worktree(id)?;
        if worktree.state == WorktreeState::Discarded {
            return Ok(());
        }
        let _held = self.hold(id, &worktree)?;
        if !force {
            let (commits, uncommitted) = worktree::unmerged(&worktree)?;
            if commits > 0 || uncommitted {
                return Err(Error::UnmergedWork {
                    id,
                    branch: worktree.branch.clone(),
                    commits,
                    uncommitted,
                });
            }
        }
        worktree::remove(&worktree, false)?;
        tracing::info!(
            "task {id}: worktree and branch {} discarded",
            worktree.branch
        );
        self.set_worktree(id, |w| w.state = WorktreeState::Discarded)?;
        Ok(())
    }

    /// Removes a finished task's worktree and keeps its branch, with whatever the agent left
    /// uncommitted committed onto it.
    pub fn keep_branch(&self, id: TaskId) -> Result<()> {
        let (_, worktree, _held) = self.settle(id)?;
        worktree::remove(&worktree, true)?;
        tracing::info!(
            "task {id}: worktree removed, branch {} kept",
            worktree.branch
        );
        self.set_worktree(id, |w| w.state = WorktreeState::Kept)?;
        Ok(())
    }

    /// Folders in the worktrees folder that no task claims (their task was removed by hand,
    /// or the history was lost). Reported, never removed: they may hold unmerged work.
    pub fn stray_worktrees(&self) -> Vec<StrayWorktree> {
        stray_worktrees(&self.inner.history)
    }

    /// A task's record and worktree, once it has finished.
    fn finished_worktree(&self, id: TaskId) -> Result<(TaskRecord, Worktree)> {
        let record = self.get(id).ok_or(Error::TaskNotFound { id })?;
        if record.status.is_active() {
            return Err(Error::TaskRunning { id });
        }
        let worktree = record.worktree.clone().ok_or(Error::NoWorktree { id })?;
        if let Some(to) = worktree.continued_by {
            return Err(Error::WorktreeMoved { id, to });
        }
        Ok((record, worktree))
    }

    /// Before a merge or keep: the finished task's worktree, still on disk, held, with what the
    /// agent left uncommitted committed onto its branch.
    fn settle(&self, id: TaskId) -> Result<(TaskRecord, Worktree, ProjectLock)> {
        let (record, worktree) = self.finished_worktree(id)?;
        if !worktree.state.is_present() {
            return Err(Error::WorktreeGone {
                id,
                state: worktree.state.as_str(),
            });
        }
        let held = self.hold(id, &worktree)?;
        self.commit_leftovers(&record, &worktree)?;
        Ok((record, worktree, held))
    }

    /// The worktree's folder lock, so no follow-up starts there meanwhile.
    fn hold(&self, id: TaskId, worktree: &Worktree) -> Result<ProjectLock> {
        let mut held = ProjectLock::take(&self.inner.history.locks_dir(), &worktree.dir)?;
        held.hold_for(id)?;
        Ok(held)
    }

    fn commit_leftovers(&self, record: &TaskRecord, worktree: &Worktree) -> Result<()> {
        let message = format!("{} (uncommitted changes)", commit_message(record));
        if worktree::commit_leftovers(worktree, &message)? {
            self.set_worktree(record.id, |w| w.note = None)?;
        }
        Ok(())
    }

    /// Changes a task's worktree in its record, saved and announced; a new state also goes to
    /// the tasks it followed up in the same worktree.
    pub(crate) fn set_worktree(
        &self,
        id: TaskId,
        change: impl FnOnce(&mut Worktree),
    ) -> Result<()> {
        let record = self.change_worktree(id, change)?;
        let Some(worktree) = record.worktree else {
            return Ok(());
        };
        let mut parent = record.follow_up_of;
        // Bounded: a chain of follow-ups is never longer than the history.
        for _ in 0..10_000 {
            let Some(pid) = parent else { break };
            let Some(before) = self.get(pid) else { break };
            match before.worktree {
                Some(w) if w.path == worktree.path && w.state != worktree.state => {
                    self.change_worktree(pid, |w| w.state = worktree.state)?;
                }
                Some(w) if w.path == worktree.path => {}
                _ => break,
            }
            parent = before.follow_up_of;
        }
        Ok(())
    }

    fn change_worktree(
        &self,
        id: TaskId,
        change: impl FnOnce(&mut Worktree),
    ) -> Result<TaskRecord> {
        let mut change = Some(change);
        let held = {
            let mut tasks = lock_tasks(&self.inner);
            tasks.get_mut(&id).map(|slot| {
                if let (Some(w), Some(change)) = (slot.record.worktree.as_mut(), change.take()) {
                    change(w);
                }
                slot.record.clone()
            })
        };
        let record = match held {
            Some(record) => record,
            // Not held: a finished task of the history.
            None => {
                let mut record = self.inner.history.load(id)?;
                if let (Some(w), Some(change)) = (record.worktree.as_mut(), change.take()) {
                    change(w);
                }
                record
            }
        };
        self.inner.history.save(&record)?;
        let _ = self.inner.events.send(Event::WorktreeChanged { task: id });
        Ok(record)
    }
}

/// Folders in the history's worktrees folder that no task claims: reported, never removed
/// (they may hold unmerged work).
pub fn stray_worktrees(history: &History) -> Vec<StrayWorktree> {
    let root = history.worktrees_dir();
    if !root.is_dir() {
        return Vec::new();
    }
    // A worktree's folder is named after its task.
    let claimed = |path: &Path| {
        path.file_name()
            .and_then(|name| name.to_str()?.parse::<TaskId>().ok())
            .and_then(|id| history.load(id).ok()?.worktree)
            .is_some_and(|w| w.state.is_present() && w.path == path)
    };
    worktree::strays(&root, claimed)
}

/// "Task #N: <name>", the message of the commits Tasktray makes for a task.
pub(crate) fn commit_message(record: &TaskRecord) -> String {
    format!("Task #{}: {}", record.id, record.name)
}
