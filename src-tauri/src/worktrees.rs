//! The commands of a task's own git worktree: where a new one would start, the review of a
//! finished one, and what becomes of it (merge, keep the branch, discard, open the folder).
//! git runs in processes, so every command runs on the blocking pool.

use std::path::PathBuf;

use supervisor::{MergeOutcome, RepoHead, Review, TaskId};
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::commands::off_main;
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// The repository around `folder` and its HEAD, which a worktree task would start from; an
/// error (`NotARepository`, `GitMissing`) says why the option is off for that folder.
#[tauri::command]
pub async fn repo_head(state: State<'_, AppState>, folder: String) -> IpcResult<RepoHead> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.repo_head(&PathBuf::from(folder))?)).await
}

/// What a finished worktree task's branch changed: files, bounded diffs, commits.
#[tauri::command]
pub async fn review_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<Review> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.review(id)?)).await
}

/// One file's whole diff, for a file the review sent without its patch.
#[tauri::command]
pub async fn file_diff(state: State<'_, AppState>, id: TaskId, path: String) -> IpcResult<String> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.diff(id, Some(&path), false)?)).await
}

#[tauri::command]
pub async fn merge_task(
    state: State<'_, AppState>,
    id: TaskId,
    squash: bool,
) -> IpcResult<MergeOutcome> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.merge(id, squash)?)).await
}

/// Removes the worktree and the branch; without `force`, refused (`UnmergedWork`) while the
/// branch holds work no other branch has, so the UI asks first.
#[tauri::command]
pub async fn discard_worktree(
    state: State<'_, AppState>,
    id: TaskId,
    force: bool,
) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.discard(id, force)?)).await
}

#[tauri::command]
pub async fn keep_branch(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.keep_branch(id)?)).await
}

/// Opens the task's worktree folder in the file manager.
#[tauri::command]
pub async fn open_worktree(
    app: AppHandle,
    state: State<'_, AppState>,
    id: TaskId,
) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || {
        let record = sup.get(id).ok_or(supervisor::Error::TaskNotFound { id })?;
        let worktree = record
            .worktree
            .ok_or(supervisor::Error::NoWorktree { id })?;
        if !worktree.dir.is_dir() {
            return Err(IpcError::new(
                "NoWorktree",
                format!("the worktree {} is gone", worktree.dir.display()),
            ));
        }
        app.opener()
            .open_path(worktree.dir.to_string_lossy(), None::<&str>)
            .map_err(|e| {
                IpcError::new(
                    "NoViewer",
                    format!(
                        "no file manager could open {} ({e})",
                        worktree.dir.display()
                    ),
                )
            })
    })
    .await
}
