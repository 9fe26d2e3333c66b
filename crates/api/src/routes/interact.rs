//! Talking to a running two-way task: its open approvals, answers, messages, interrupts. Each
//! hands the request to the task and answers 202 with the task as it is now.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use supervisor::{Decision, TaskId, TaskRecord};

use super::tasks::record;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::server::AppState;
use crate::types::{ApprovalList, MessageBody};

type Accepted = (StatusCode, Json<TaskRecord>);

fn accepted(state: &AppState, id: TaskId) -> Result<Accepted, ApiError> {
    Ok((StatusCode::ACCEPTED, Json(record(state, id)?)))
}

/// Every request of every task that waits for the user, oldest first.
#[utoipa::path(get, path = "/v1/approvals", tag = "interaction", operation_id = "listApprovals",
    responses((status = 200, description = "Open requests", body = ApprovalList)))]
pub(crate) async fn all(State(state): State<AppState>) -> Json<ApprovalList> {
    Json(ApprovalList {
        approvals: state.supervisor.pending_approvals(),
    })
}

/// The requests of one task that wait for the user, oldest first.
#[utoipa::path(get, path = "/v1/tasks/{id}/approvals", tag = "interaction",
    operation_id = "listTaskApprovals",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 200, description = "Open requests", body = ApprovalList),
        (status = 400, description = "InvalidPath: the id is not a task id", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError)))]
pub(crate) async fn of_task(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<Json<ApprovalList>, ApiError> {
    record(&state, id)?;
    Ok(Json(ApprovalList {
        approvals: state.supervisor.approvals(id),
    }))
}

/// Answer one of a task's open requests.
///
/// Exactly one answer wins, from whichever client.
#[utoipa::path(post, path = "/v1/tasks/{id}/approvals/{request_id}", tag = "interaction",
    operation_id = "answerApproval",
    params(
        ("id" = u64, Path, description = "The task's id"),
        ("request_id" = String, Path, description = "The request's id")),
    request_body = Decision,
    responses(
        (status = 202, description = "Answered; the task as it is now", body = TaskRecord),
        (status = 400, description = "Malformed JSON, or InvalidPath", body = ApiError),
        (status = 404, description = "TaskNotFound, ApprovalNotFound (answered, timed out or withdrawn)", body = ApiError),
        (status = 409, description = "TaskNotRunning, NotTwoWay", body = ApiError),
        (status = 429, description = "InputClosed: too many answers waiting; try again", body = ApiError)))]
pub(crate) async fn answer(
    State(state): State<AppState>,
    ApiPath((id, request_id)): ApiPath<(TaskId, String)>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Accepted, ApiError> {
    state.supervisor.answer(id, &request_id, decision)?;
    accepted(&state, id)
}

/// Send a message into a running task's session.
///
/// Mid-turn, the agent takes it when its current turn ends.
#[utoipa::path(post, path = "/v1/tasks/{id}/messages", tag = "interaction",
    operation_id = "sendMessage",
    params(("id" = u64, Path, description = "The task's id")),
    request_body = MessageBody,
    responses(
        (status = 202, description = "Sent; the task as it is now", body = TaskRecord),
        (status = 400, description = "EmptyMessage, InvalidPrompt, malformed JSON, InvalidPath", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskNotRunning, NotTwoWay, InputClosed", body = ApiError),
        (status = 429, description = "InputClosed: too many messages waiting; try again", body = ApiError)))]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<Accepted, ApiError> {
    state.supervisor.send(id, &body.message)?;
    accepted(&state, id)
}

/// Stop the task's current turn.
///
/// A running tool is stopped, the agent stays, and the task waits for a new message. Does
/// nothing between turns.
#[utoipa::path(post, path = "/v1/tasks/{id}/interrupt", tag = "interaction",
    operation_id = "interruptTask",
    params(("id" = u64, Path, description = "The task's id")),
    responses(
        (status = 202, description = "Interrupting; the task as it is now", body = TaskRecord),
        (status = 400, description = "InvalidPath: the id is not a task id", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 409, description = "TaskNotRunning, NotTwoWay, InputClosed", body = ApiError)))]
pub(crate) async fn interrupt(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<Accepted, ApiError> {
    state.supervisor.interrupt(id)?;
    accepted(&state, id)
}
