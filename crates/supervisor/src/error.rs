//! The one error type of the core. Each variant says what was being done and on what, so a
//! message shown to a user needs no further context; [`Error::code`] is the stable name the UI
//! branches on.

use std::path::PathBuf;

use crate::model::TaskId;

/// Everything that can go wrong in the supervisor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the prompt is empty: write what the agent should do")]
    EmptyPrompt,

    #[error("the prompt contains a NUL byte, which cannot be passed to a program")]
    PromptHasNul,

    #[error("the project folder must be an absolute path, got {}", path.display())]
    ProjectDirRelative { path: PathBuf },

    #[error("the project folder {} does not exist", path.display())]
    ProjectDirMissing { path: PathBuf },

    #[error("{} is a file, not a folder: choose the project folder", path.display())]
    ProjectNotDir { path: PathBuf },

    #[error("task {task_id} is already running in {}; wait for it or cancel it first", project.display())]
    ProjectBusy { task_id: TaskId, project: PathBuf },

    #[error(
        "Claude Code was not found (looked in: {}). Install it with \
         `npm install -g @anthropic-ai/claude-code`, or set its path in Settings or with TASKTRAY_AGENT",
        display_paths(searched)
    )]
    AgentNotFound { searched: Vec<PathBuf> },

    #[error("the agent {} is not an executable file", path.display())]
    AgentNotExecutable { path: PathBuf },

    #[error("there is no task {id}")]
    TaskNotFound { id: TaskId },

    #[error("task {id} is still running: cancel it before removing it")]
    TaskRunning { id: TaskId },

    #[error("task {id} is not running")]
    TaskNotRunning { id: TaskId },

    #[error(
        "task {id} is run by another program ({owner}), which alone can answer, message or stop it"
    )]
    TaskElsewhere { id: TaskId, owner: String },

    #[error("task {id} is queued and has not started yet; it takes messages once it runs")]
    TaskQueued { id: TaskId },

    #[error("{message}")]
    InvalidSettings { message: String },

    #[error("task {id} has no saved session to continue: start it with the session kept and the stream-json format")]
    NoSession { id: TaskId },

    #[error(
        "task {task} has no open request {request_id:?}: it was answered, timed out or withdrawn"
    )]
    ApprovalNotFound { task: TaskId, request_id: String },

    #[error("task {id} runs in the text format, which cannot take messages or questions: start it with the stream-json format")]
    NotTwoWay { id: TaskId },

    #[error("task {id} is finishing and takes no more messages")]
    InputClosed { id: TaskId },

    #[error("task {id} has too many messages waiting to be delivered; try again in a moment")]
    InputBusy { id: TaskId },

    #[error("the message is empty")]
    EmptyMessage,

    #[error("the data folder {} is not usable: {source}", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not {about} {}: {source}", path.display())]
    Io {
        about: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not start task {id}: {source}")]
    Start {
        id: TaskId,
        #[source]
        source: std::io::Error,
    },

    #[error("the supervisor is shutting down")]
    ShuttingDown,
}

impl Error {
    /// The stable, machine-readable name of the error, sent to the UI as `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::EmptyPrompt => "EmptyPrompt",
            Error::PromptHasNul => "InvalidPrompt",
            Error::ProjectDirRelative { .. }
            | Error::ProjectDirMissing { .. }
            | Error::ProjectNotDir { .. } => "InvalidProjectDir",
            Error::ProjectBusy { .. } => "ProjectBusy",
            Error::AgentNotFound { .. } | Error::AgentNotExecutable { .. } => "AgentNotFound",
            Error::TaskNotFound { .. } => "TaskNotFound",
            Error::TaskRunning { .. } => "TaskRunning",
            Error::TaskNotRunning { .. } => "TaskNotRunning",
            Error::TaskQueued { .. } => "TaskQueued",
            Error::TaskElsewhere { .. } => "TaskElsewhere",
            Error::InvalidSettings { .. } => "InvalidSettings",
            Error::NoSession { .. } => "NoSession",
            Error::ApprovalNotFound { .. } => "ApprovalNotFound",
            Error::NotTwoWay { .. } => "NotTwoWay",
            Error::InputClosed { .. } | Error::InputBusy { .. } => "InputClosed",
            Error::EmptyMessage => "EmptyMessage",
            Error::DataDir { .. } => "DataDir",
            Error::Io { .. } | Error::Start { .. } => "Io",
            Error::ShuttingDown => "ShuttingDown",
        }
    }

    pub(crate) fn io(
        about: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            about,
            path: path.into(),
            source,
        }
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
