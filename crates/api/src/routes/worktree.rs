//! A worktree task's review and what becomes of its work: `/v1/tasks/{id}/review`, `/diff`,
//! `/merge`, `/keep-branch`, `/discard`, and `/v1/repo-head` (where a new worktree task in a
//! folder would start). git runs in processes: every handler runs on the blocking pool.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use supervisor::{MergeOutcome, RepoHead, Review, TaskId};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;

/// What a worktree task's branch changed since it left the branch it started from.
///
/// Files with their added and removed lines and unified diffs (a file's `patch` is left out
/// beyond the review's size bound: ask `/diff?path=` for it), and the branch's commits,
/// newest first.
#[utoipa::path(get, path = "/v1/tasks/{id}/review", tag = "worktrees", operation_id = "reviewTask",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 400, description = "InvalidPath", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning, NoWorktree, WorktreeMoved", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing", body = ApiError)))]
pub(crate) async fn review(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<Json<Review>, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.review(id)?))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffQuery {
    /// Only this file (a path in the repository).
    path: Option<String>,
    /// A summary of the files changed (`git diff --stat`) instead of the diff.
    #[serde(default)]
    stat: bool,
}

/// A worktree task's whole diff as text (`text/plain`), or one file's, or a summary.
#[utoipa::path(get, path = "/v1/tasks/{id}/diff", tag = "worktrees", operation_id = "diffTask",
    params(("id" = u64, Path, description = "The task's id"), DiffQuery),
    responses(
        (status = 200, description = "The unified diff", body = String, content_type = "text/plain"),
        (status = 400, description = "InvalidPath, InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "NoWorktree", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing", body = ApiError)))]
pub(crate) async fn diff(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let supervisor = state.supervisor.clone();
    let text =
        super::blocking(move || Ok(supervisor.diff(id, query.path.as_deref(), query.stat)?))
            .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MergeQuery {
    /// One squashed commit instead of the branch's commits.
    #[serde(default)]
    squash: bool,
}

/// Merge a finished worktree task's branch into the branch it started from.
///
/// In the repository's main folder, which must be on that branch: a fast-forward when
/// possible, else a merge commit; with `squash`, one commit. What the agent left uncommitted
/// is committed onto the branch first. Refused with nothing changed when it would conflict
/// (`MergeConflict` names the files) or when the main folder has uncommitted changes in the
/// files it touches (`MainFolderDirty`).
#[utoipa::path(post, path = "/v1/tasks/{id}/merge", tag = "worktrees", operation_id = "mergeTask",
    params(("id" = u64, Path, description = "The task's id"), MergeQuery),
    responses(
        (status = 200, description = "Merged", body = MergeOutcome),
        (status = 400, description = "InvalidPath, InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning, NoWorktree, WorktreeMoved, WrongBranch, MergeConflict, MainFolderDirty, ProjectBusy", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing", body = ApiError)))]
pub(crate) async fn merge(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiQuery(query): ApiQuery<MergeQuery>,
) -> Result<Json<MergeOutcome>, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.merge(id, query.squash)?))
        .await
        .map(Json)
}

/// Remove a finished worktree task's worktree and keep its branch.
#[utoipa::path(post, path = "/v1/tasks/{id}/keep-branch", tag = "worktrees",
    operation_id = "keepBranch",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 204, description = "The worktree is removed; the branch stays"),
        (status = 400, description = "InvalidPath", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning, NoWorktree, WorktreeMoved, ProjectBusy", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing", body = ApiError)))]
pub(crate) async fn keep_branch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<StatusCode, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.keep_branch(id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiscardQuery {
    /// Also when the branch holds work that no other branch has.
    #[serde(default)]
    force: bool,
}

/// Remove a finished worktree task's worktree and branch.
///
/// Without `force`, refused (`UnmergedWork`) while the branch has commits no other branch
/// holds and its changes are not in the branch it started from (a squash-merged branch counts
/// as merged), or while the worktree has uncommitted changes.
#[utoipa::path(post, path = "/v1/tasks/{id}/discard", tag = "worktrees",
    operation_id = "discardWorktree",
    params(("id" = u64, Path, description = "The task's id"), DiscardQuery),
    responses(
        (status = 204, description = "The worktree and the branch are removed"),
        (status = 400, description = "InvalidPath, InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning, NoWorktree, WorktreeMoved, UnmergedWork, ProjectBusy", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing", body = ApiError)))]
pub(crate) async fn discard(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiQuery(query): ApiQuery<DiscardQuery>,
) -> Result<StatusCode, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.discard(id, query.force)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RepoHeadQuery {
    /// An absolute folder path.
    folder: String,
}

/// Where a worktree task in a folder would start: its repository, branch and commit, and
/// whether the folder has uncommitted changes (which a new worktree does not include).
#[utoipa::path(get, path = "/v1/repo-head", tag = "worktrees", operation_id = "repoHead",
    params(RepoHeadQuery),
    responses(
        (status = 200, description = "The repository's HEAD", body = RepoHead),
        (status = 400, description = "InvalidQuery, InvalidProjectDir, NotARepository", body = ApiError),
        (status = 500, description = "GitFailed, GitMissing, Io", body = ApiError)))]
pub(crate) async fn repo_head(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RepoHeadQuery>,
) -> Result<Json<RepoHead>, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.repo_head(std::path::Path::new(&query.folder))?))
        .await
        .map(Json)
}
