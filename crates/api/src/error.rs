//! Errors as clients receive them: `{"code": "...", "message": "..."}` with a fitting HTTP
//! status, plus `task_id` for `ProjectBusy` (the task in the way), as the app's IPC does.
//! Clients branch on `code` and show `message`.

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use supervisor::{Error, TaskId};
use utoipa::ToSchema;

/// An error response. The core's errors keep their code; the API adds its own codes
/// for what never reaches the core: `InvalidJson`, `InvalidQuery`, `InvalidPath`,
/// `PayloadTooLarge`, `NotFound`, `MethodNotAllowed`, `PeerRefused`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// The stable, machine-readable name of the error, e.g. `TaskNotFound`.
    code: String,
    /// What went wrong, in words a user can act on.
    message: String,
    /// For `ProjectBusy`: the task that holds the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<TaskId>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            task_id: None,
        }
    }

    /// A 400: what the client sent cannot be used (e.g. settings that do not validate).
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 500: the server could not do it (e.g. the settings file cannot be written).
    pub fn internal(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn task_id(&self) -> Option<TaskId> {
        self.task_id
    }

    pub(crate) fn task_not_found(id: TaskId) -> Self {
        Error::TaskNotFound { id }.into()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let task_id = match &error {
            Error::ProjectBusy { task_id, .. } => Some(*task_id),
            _ => None,
        };
        ApiError {
            status: status_of(&error),
            code: error.code().to_owned(),
            message: error.to_string(),
            task_id,
        }
    }
}

/// The HTTP status of a core error: 400 for what the request got wrong, 404 for what is not
/// there, 409 for what the task's state does not allow, 429 for a full input queue, 503 while
/// shutting down, 500 for the rest.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::EmptyPrompt
        | Error::PromptHasNul
        | Error::ProjectDirRelative { .. }
        | Error::ProjectDirMissing { .. }
        | Error::ProjectNotDir { .. }
        | Error::EmptyMessage
        | Error::NotARepository { .. }
        | Error::NoCommits { .. }
        | Error::InvalidSettings { .. } => StatusCode::BAD_REQUEST,
        Error::TaskNotFound { .. } | Error::ApprovalNotFound { .. } => StatusCode::NOT_FOUND,
        Error::ProjectBusy { .. }
        | Error::TaskRunning { .. }
        | Error::TaskNotRunning { .. }
        | Error::TaskQueued { .. }
        | Error::TaskElsewhere { .. }
        | Error::NoSession { .. }
        | Error::NotTwoWay { .. }
        | Error::InputClosed { .. }
        | Error::NoWorktree { .. }
        | Error::WorktreeGone { .. }
        | Error::WorktreeMoved { .. }
        | Error::WorktreeOpen { .. }
        | Error::NoBaseBranch { .. }
        | Error::WrongBranch { .. }
        | Error::MergeConflict { .. }
        | Error::MainFolderDirty { .. }
        | Error::UnmergedWork { .. } => StatusCode::CONFLICT,
        Error::InputBusy { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!("api: {self}");
        }
        (self.status, Json(self)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_get_a_status() {
        let busy = ApiError::from(Error::ProjectBusy {
            task_id: TaskId(7),
            project: "/p".into(),
        });
        assert_eq!(busy.status(), StatusCode::CONFLICT);
        let json = serde_json::to_value(&busy).expect("serializes");
        assert_eq!(json["code"], "ProjectBusy");
        assert_eq!(json["task_id"], 7);
        assert!(
            json.get("status").is_none(),
            "the status is the HTTP status"
        );

        let missing = ApiError::task_not_found(TaskId(3));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let json = serde_json::to_value(&missing).expect("serializes");
        assert!(json.get("task_id").is_none());
        assert_eq!(
            ApiError::from(Error::ShuttingDown).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(Error::EmptyPrompt).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
