//! `/v1/tasks`: start, list, read, wait for, cancel, follow up and remove tasks.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderName, StatusCode};
use axum::Json;
use serde::Deserialize;
use supervisor::{SpawnRequest, TaskId, TaskQuery, TaskRecord, TaskStatus};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::AppState;
use crate::types::{FollowUpBody, TaskList};
use crate::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};

/// A new task: 201, its `Location`, and its record.
type Created = (StatusCode, [(HeaderName, String); 1], Json<TaskRecord>);

/// Every status a task can have, for `?status=` and its error message.
fn created(record: TaskRecord) -> Created {
    let location = format!("/v1/tasks/{}", record.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(record),
    )
}

/// The record of task `id` as it is now.
pub(super) fn record(state: &AppState, id: TaskId) -> Result<TaskRecord, ApiError> {
    state
        .supervisor
        .get(id)
        .ok_or_else(|| ApiError::task_not_found(id))
}

/// [`record`] on the blocking pool: a finished task is read from disk.
async fn read_record(state: &AppState, id: TaskId) -> Result<TaskRecord, ApiError> {
    let state = state.clone();
    super::blocking(move || record(&state, id)).await
}

/// Start a task.
///
/// It runs in the background; the response is its first record. Its status is `queued` when
/// it waits for its turn: over the running limit (Settings), or with `queue` while its project
/// is busy. A queued task starts by itself.
#[utoipa::path(post, path = "/v1/tasks", tag = "tasks", operation_id = "spawnTask",
    request_body = SpawnRequest,
    responses(
        (status = 201, description = "Started or queued", body = TaskRecord,
            headers(("Location" = String, description = "The task's URL"))),
        (status = 400, description = "Invalid prompt or project folder, or malformed JSON", body = ApiError),
        (status = 409, description = "ProjectBusy: a task runs in that folder (`task_id`) and `queue` is not set", body = ApiError),
        (status = 413, description = "The body is too large", body = ApiError),
        (status = 500, description = "AgentNotFound, Io", body = ApiError),
        (status = 503, description = "ShuttingDown", body = ApiError)))]
pub(crate) async fn spawn(
    State(state): State<AppState>,
    ApiJson(mut request): ApiJson<SpawnRequest>,
) -> Result<Created, ApiError> {
    state.settings.prepare_spawn(&mut request);
    let supervisor = state.supervisor.clone();
    let id = super::blocking(move || Ok(supervisor.spawn(request)?)).await?;
    Ok(created(record(&state, id)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only tasks with this status; several separated by commas (`running,waiting`).
    status: Option<String>,
    /// Tasks per page: 50 by default, at most 1000.
    limit: Option<usize>,
    /// Only tasks with a lower id: the `next_cursor` of the previous page.
    cursor: Option<u64>,
    /// Only tasks whose name, prompt, project folder or result text contains every word of
    /// it, ignoring case.
    search: Option<String>,
}

/// List tasks, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/tasks", tag = "tasks", operation_id = "listTasks", params(ListQuery),
    responses(
        (status = 200, description = "A page of tasks", body = TaskList),
        (status = 400, description = "InvalidQuery", body = ApiError)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let query = TaskQuery {
        status: parse_statuses(query.status.as_deref())?,
        search: query.search,
        before: query.cursor.map(TaskId),
        limit: Some(
            query
                .limit
                .unwrap_or(DEFAULT_LIST_LIMIT)
                .clamp(1, MAX_LIST_LIMIT) as u32,
        ),
    };
    let supervisor = state.supervisor.clone();
    let page = super::blocking(move || Ok(supervisor.list(&query)?)).await?;
    Ok(Json(TaskList {
        tasks: page.tasks,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

fn parse_statuses(list: Option<&str>) -> Result<Vec<TaskStatus>, ApiError> {
    let names = list.unwrap_or_default().split(',').map(str::trim);
    names
        .filter(|name| !name.is_empty())
        .map(|name| {
            TaskStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::bad_request(
                        "InvalidQuery",
                        format!("unknown status {name:?} (use {})", known.join(", ")),
                    )
                })
        })
        .collect()
}

/// One task.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks", operation_id = "getTask",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = TaskRecord),
        (status = 400, description = "InvalidPath: the id is not a task id", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<Json<TaskRecord>, ApiError> {
    read_record(&state, id).await.map(Json)
}

/// Forget a finished task.
///
/// Its history and log are deleted; the transcript file in the project stays.
#[utoipa::path(delete, path = "/v1/tasks/{id}", tag = "tasks", operation_id = "deleteTask",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "InvalidPath: the id is not a task id", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning: cancel it first; WorktreeOpen: merge, keep or discard its worktree first", body = ApiError)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<StatusCode, ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.cleanup(id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask a running task to stop.
///
/// SIGTERM to its process tree, SIGKILL after the grace period. Returns at once;
/// `GET /v1/tasks/{id}/wait` waits for the end.
#[utoipa::path(post, path = "/v1/tasks/{id}/cancel", tag = "tasks", operation_id = "cancelTask",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 202, description = "Stopping; the task as it is now", body = TaskRecord),
        (status = 400, description = "InvalidPath: the id is not a task id", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskNotRunning", body = ApiError)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<(StatusCode, Json<TaskRecord>), ApiError> {
    let supervisor = state.supervisor.clone();
    super::blocking(move || Ok(supervisor.request_cancel(id)?)).await?;
    Ok((StatusCode::ACCEPTED, Json(record(&state, id)?)))
}

/// Continue a finished task's agent session with a new prompt.
///
/// The follow-up is a new task linked to the first (`follow_up_of`); the first task must have
/// run with `options.keep_session`.
#[utoipa::path(post, path = "/v1/tasks/{id}/follow-up", tag = "tasks",
    operation_id = "followUpTask",
    params(("id" = u64, Path, description = "The finished task's id")),
    request_body = FollowUpBody,
    responses(
        (status = 201, description = "The new task", body = TaskRecord,
            headers(("Location" = String, description = "The new task's URL"))),
        (status = 400, description = "Invalid prompt, malformed JSON, or InvalidPath", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskRunning, NoSession, ProjectBusy", body = ApiError)))]
pub(crate) async fn follow_up(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(body): ApiJson<FollowUpBody>,
) -> Result<Created, ApiError> {
    let supervisor = state.supervisor.clone();
    let new = super::blocking(move || Ok(supervisor.follow_up(id, body.prompt)?)).await?;
    Ok(created(record(&state, new)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WaitQuery {
    /// Give up after this many milliseconds and return the task as it is (still active).
    /// Without it, wait until the task ends.
    timeout_ms: Option<u64>,
}

/// Wait until a task ends (long poll).
///
/// Returns the final record. With `timeout_ms`, the answer comes after that long at the
/// latest, still 200: the record's `status` is then still `pending`, `running` or `waiting`,
/// and the client asks again.
#[utoipa::path(get, path = "/v1/tasks/{id}/wait", tag = "tasks", operation_id = "waitForTask",
    params(("id" = u64, Path, description = "The task's id"), WaitQuery),
    responses(
        (status = 200, description = "The final record, or the current one after `timeout_ms`", body = TaskRecord),
        (status = 400, description = "InvalidPath, InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 503, description = "ShuttingDown: the server stops", body = ApiError)))]
pub(crate) async fn wait(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> Result<Json<TaskRecord>, ApiError> {
    let until_end = state.supervisor.wait(id);
    let timeout = query.timeout_ms.map(Duration::from_millis);
    let bounded = async {
        match timeout {
            Some(limit) => tokio::time::timeout(limit, until_end).await.ok(),
            None => Some(until_end.await),
        }
    };
    tokio::select! {
        ended = bounded => match ended {
            Some(result) => Ok(Json(result?)),
            None => read_record(&state, id).await.map(Json),
        },
        () = state.shutdown.cancelled() => Err(supervisor::Error::ShuttingDown.into()),
    }
}
