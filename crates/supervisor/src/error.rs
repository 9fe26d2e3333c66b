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

    #[error("git was not found: install git to run tasks in worktrees of their own")]
    GitMissing,

    #[error("git {version} is too old for worktree tasks: Tasktray needs git 2.38 or newer")]
    GitTooOld { version: String },

    #[error("{} is not in a git repository: a task's own worktree needs one (run `git init` there, or turn \"Own worktree\" off)", path.display())]
    NotARepository { path: PathBuf },

    #[error("the repository at {} has no commit yet: commit once before starting a task in a worktree of its own", path.display())]
    NoCommits { path: PathBuf },

    #[error("git could not {action}: {message}")]
    Git { action: String, message: String },

    #[error("task {id} did not run in a worktree of its own")]
    NoWorktree { id: TaskId },

    #[error("task {id}'s worktree was {state}: its folder is gone")]
    WorktreeGone { id: TaskId, state: &'static str },

    #[error("task {id}'s worktree went on with its follow-up, task {to}: review, merge or discard it there")]
    WorktreeMoved { id: TaskId, to: TaskId },

    #[error("task {id} still has its worktree ({}): merge it, keep its branch or discard it first", path.display())]
    WorktreeOpen { id: TaskId, path: PathBuf },

    #[error("task {id} started from a detached HEAD ({commit}): there is no branch to merge into; merge {branch} yourself, or keep the branch")]
    NoBaseBranch {
        id: TaskId,
        commit: String,
        branch: String,
    },

    #[error("the main folder {} is on {actual}, not on {expected}, which task {id} started from: switch it to {expected} first", path.display())]
    WrongBranch {
        id: TaskId,
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("merging task {id} into {into} would conflict in {}: nothing was changed; resolve it in the worktree ({}) or merge {branch} yourself", files.join(", "), worktree.display())]
    MergeConflict {
        id: TaskId,
        into: String,
        branch: String,
        worktree: PathBuf,
        files: Vec<String>,
    },

    #[error("the main folder {} has uncommitted changes in {}, which the merge would touch: commit or stash them first; nothing was changed", path.display(), files.join(", "))]
    MainFolderDirty { path: PathBuf, files: Vec<String> },

    #[error("task {id}'s branch {branch} holds {}: merge it, keep the branch, or discard it anyway", unmerged_text(*commits, *uncommitted))]
    UnmergedWork {
        id: TaskId,
        branch: String,
        commits: u64,
        uncommitted: bool,
    },
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
            Error::GitMissing | Error::GitTooOld { .. } => "GitMissing",
            Error::NotARepository { .. } | Error::NoCommits { .. } => "NotARepository",
            Error::Git { .. } => "GitFailed",
            Error::NoWorktree { .. } | Error::WorktreeGone { .. } => "NoWorktree",
            Error::WorktreeOpen { .. } => "WorktreeOpen",
            Error::WorktreeMoved { .. } => "WorktreeMoved",
            Error::NoBaseBranch { .. } | Error::WrongBranch { .. } => "WrongBranch",
            Error::MergeConflict { .. } => "MergeConflict",
            Error::MainFolderDirty { .. } => "MainFolderDirty",
            Error::UnmergedWork { .. } => "UnmergedWork",
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

fn unmerged_text(commits: u64, uncommitted: bool) -> String {
    let commits = match commits {
        0 => None,
        1 => Some("1 commit that no other branch has".to_string()),
        n => Some(format!("{n} commits that no other branch has")),
    };
    match (commits, uncommitted) {
        (Some(c), true) => format!("{c}, and uncommitted changes"),
        (Some(c), false) => c,
        (None, _) => "uncommitted changes".to_string(),
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
