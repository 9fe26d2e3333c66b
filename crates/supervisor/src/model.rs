//! The data a task is made of: what was asked, how it is going, how it ended. These types are
//! persisted (see `history`) and sent to the UI, so changes to them are format changes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::approval::{Approval, ApprovalOutcome};

/// A task's id: increasing, never reused, also across restarts and processes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TaskId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().trim_start_matches('#').parse().map(TaskId)
    }
}

/// Where a task is in its life. `Queued` waits for its project or for a free place under the
/// running limit, and starts by itself. `Waiting` is a running task that waits for the user:
/// an approval, or a new instruction after its turn was stopped. `Interrupted` marks a task
/// whose host died while it ran.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TaskStatus {
    Queued,
    Pending,
    Running,
    Waiting,
    Completed,
    Failed,
    Cancelled,
    Interrupted,
}

impl TaskStatus {
    /// Every status, in the order of a task's life.
    pub const ALL: [TaskStatus; 8] = [
        TaskStatus::Queued,
        TaskStatus::Pending,
        TaskStatus::Running,
        TaskStatus::Waiting,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::Interrupted,
    ];

    /// Queued, pending, running and waiting tasks are active: they have not finished.
    pub fn is_active(self) -> bool {
        self == TaskStatus::Queued || self.is_running()
    }

    /// Pending, running and waiting tasks have started: they hold their project, and count
    /// against the running limit.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            TaskStatus::Pending | TaskStatus::Running | TaskStatus::Waiting
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Waiting => "waiting",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The agent's `--output-format`. stream-json is the default because text prints nothing
/// until the very end.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    #[default]
    StreamJson,
    Text,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::StreamJson => "stream-json",
            OutputFormat::Text => "text",
        }
    }
}

impl FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stream-json" => Ok(OutputFormat::StreamJson),
            "text" => Ok(OutputFormat::Text),
            other => Err(format!(
                "unknown output format {other:?} (use stream-json or text)"
            )),
        }
    }
}

/// The agent's `--permission-mode`: every mode Claude Code 2.1.332 accepts. `Default` asks
/// before a tool that needs permission; in a two-way task the question comes to the user.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PermissionMode {
    #[default]
    Default,
    AcceptEdits,
    Auto,
    DontAsk,
    Manual,
    Plan,
    BypassPermissions,
}

impl PermissionMode {
    /// Every mode, in the order a menu lists them.
    pub const ALL: [PermissionMode; 7] = [
        PermissionMode::Default,
        PermissionMode::AcceptEdits,
        PermissionMode::Auto,
        PermissionMode::DontAsk,
        PermissionMode::Manual,
        PermissionMode::Plan,
        PermissionMode::BypassPermissions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::Auto => "auto",
            PermissionMode::DontAsk => "dontAsk",
            PermissionMode::Manual => "manual",
            PermissionMode::Plan => "plan",
            PermissionMode::BypassPermissions => "bypassPermissions",
        }
    }
}

impl FromStr for PermissionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PermissionMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PermissionMode::ALL.iter().map(|m| m.as_str()).collect();
                format!("unknown permission mode {s:?} (use {})", names.join(", "))
            })
    }
}

/// How to run the agent for one task.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskOptions {
    pub format: OutputFormat,
    pub permission_mode: PermissionMode,
    /// `--model`; the agent's own default when `None`.
    pub model: Option<String>,
    /// Keep the agent's session on disk so the task can be followed up. Off by default: the
    /// seed runs every task with `--no-session-persistence`.
    pub keep_session: bool,
    /// Continue this agent session (`--resume`), for a follow-up.
    pub resume: Option<String>,
    /// Tool rules the agent may use without asking (`--allowedTools`), e.g. `Read`,
    /// `Bash(git *)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_tools: Vec<String>,
    /// Run in a git worktree of its own, on a new branch `tasktray/<id>-<slug>` from the
    /// repository's current HEAD, so several tasks can work in one repository at once.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub worktree: bool,
}

impl TaskOptions {
    /// A stream-json task talks both ways: its prompt and later messages go to the agent's
    /// stdin, and the agent asks the host before a tool that needs permission.
    pub fn is_two_way(&self) -> bool {
        self.format == OutputFormat::StreamJson
    }
}

/// What a caller asks for.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnRequest {
    /// A short label; derived from the prompt when empty.
    #[serde(default)]
    pub name: String,
    pub prompt: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project_dir: PathBuf,
    #[serde(default)]
    pub options: TaskOptions,
    /// The task this one follows up, if any.
    #[serde(default)]
    pub follow_up_of: Option<TaskId>,
    /// When the project is busy, queue the task (it starts when the project frees) instead
    /// of refusing it. Over the running limit a task is queued either way.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub queue: bool,
}

/// How the agent's process ended.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitInfo {
    Code(i32),
    Signal(i32),
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitInfo::Code(c) => write!(f, "exit code {c}"),
            ExitInfo::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// The agent's final `result` line, when it wrote one (stream-json).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResultSummary {
    pub is_error: bool,
    pub subtype: String,
    pub text: String,
    /// This task's cost. For a follow-up, the agent reports the whole session's cost so far;
    /// the runner subtracts what the task it follows had cost.
    pub cost_usd: Option<f64>,
    /// The session's cost so far, as the agent reported it.
    pub session_cost_usd: Option<f64>,
    pub num_turns: Option<u64>,
    /// Tool calls the permission mode refused: `-p` cannot ask, so the agent goes on without
    /// them and still ends in "success".
    pub denied_tools: u64,
    pub duration_ms: Option<u64>,
    pub session_id: Option<String>,
}

/// A process identified across pid reuse: its pid and its start time in clock ticks since boot
/// (field 22 of `/proc/<pid>/stat`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    pub pid: i32,
    pub start_ticks: u64,
}

/// Everything known about a task: the persisted metadata, also what queries return.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: TaskId,
    pub name: String,
    pub prompt: String,
    /// Canonical path of the project folder.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project_dir: PathBuf,
    #[serde(default)]
    pub options: TaskOptions,
    pub status: TaskStatus,
    /// Milliseconds since the Unix epoch, from the injected clock.
    pub created_at_ms: u64,
    #[serde(default)]
    pub started_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    #[serde(default)]
    pub exit: Option<ExitInfo>,
    /// Why the task failed inside Tasktray (agent missing, folder gone), as opposed to the
    /// agent reporting an error.
    #[serde(default)]
    pub error: Option<String>,
    /// Why a failed task failed, in full, with the fix when one is known: Tasktray's error,
    /// the agent's error result, or its last words on stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default)]
    pub result: Option<ResultSummary>,
    /// The agent session, from its init or result line.
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub follow_up_of: Option<TaskId>,
    /// The process that supervises the task (the app or `taskctl`).
    #[serde(default)]
    pub owner: Option<ProcessRef>,
    /// The task's shim, the root of its process tree.
    #[serde(default)]
    pub shim: Option<ProcessRef>,
    /// Output lines received so far.
    #[serde(default)]
    pub line_count: u64,
    /// The task's own git worktree and branch, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<Worktree>,
}

impl TaskRecord {
    /// The folder the agent runs in: the project folder, or its place in the task's worktree.
    /// One task runs in a folder at a time.
    pub fn work_dir(&self) -> &Path {
        match &self.worktree {
            Some(worktree) => &worktree.dir,
            None => &self.project_dir,
        }
    }

    /// Wall time from start (or creation) to finish, or to `now_ms` while it runs.
    pub fn duration_ms(&self, now_ms: u64) -> u64 {
        let start = self.started_at_ms.unwrap_or(self.created_at_ms);
        self.finished_at_ms.unwrap_or(now_ms).saturating_sub(start)
    }
}

/// A task's own git worktree: a branch made for the task from the repository's HEAD, checked
/// out in a folder of the data dir, where the agent works; reviewed, then merged or discarded.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worktree {
    /// The worktree's folder.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub path: PathBuf,
    /// Where the agent runs: the project folder's place inside the worktree.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub dir: PathBuf,
    /// The repository's main folder (its top level), where merges happen.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub repo: PathBuf,
    /// The task's branch, `tasktray/<id>-<slug>`.
    pub branch: String,
    /// The branch the task started from, which a merge goes into; none when the repository's
    /// HEAD was detached.
    pub base_branch: Option<String>,
    /// The commit the task's branch started at.
    pub base_commit: String,
    pub state: WorktreeState,
    /// The branch it was merged into, once merged (it stays when the worktree is then
    /// removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub merged_into: Option<String>,
    /// The follow-up task that went on working in this worktree, which now reviews, merges
    /// or discards it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_by: Option<TaskId>,
    /// Something the user should know, e.g. why the end-of-task commit did not happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a task's worktree is. `Open` and `Merged` worktrees are on disk (a merged one can be
/// followed up); `Kept` removed the folder and kept the branch; `Discarded` removed both.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorktreeState {
    Open,
    Merged,
    Kept,
    Discarded,
}

impl WorktreeState {
    /// The folder is still on disk.
    pub fn is_present(self) -> bool {
        matches!(self, WorktreeState::Open | WorktreeState::Merged)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorktreeState::Open => "open",
            WorktreeState::Merged => "merged",
            WorktreeState::Kept => "kept",
            WorktreeState::Discarded => "discarded",
        }
    }
}

/// Where a new worktree task would start: the repository around a folder and its HEAD.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoHead {
    /// The repository's top level.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub repo: PathBuf,
    /// The checked-out branch; none for a detached HEAD.
    pub branch: Option<String>,
    pub commit: String,
    /// The commit, abbreviated.
    pub short: String,
    /// The folder has uncommitted changes (which a new worktree does not include).
    pub dirty: bool,
}

/// One file a task's branch changed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// The old path of a renamed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub old_path: Option<String>,
    /// Lines added and removed; none for a binary file.
    pub added: Option<u64>,
    pub removed: Option<u64>,
    /// The unified diff of this file; none when the review's size bound was reached before it
    /// (ask for the file's diff alone).
    pub patch: Option<String>,
    /// The diff's size in bytes.
    pub patch_bytes: u64,
}

/// One commit of a task's branch.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub sha: String,
    pub short: String,
    pub subject: String,
    pub author: String,
    pub time_ms: u64,
}

/// What a task's branch changed, for review: against the point where it left the branch it
/// started from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub task: TaskId,
    pub worktree: Worktree,
    /// What the diff is taken against (the branch started from, or its commit).
    pub target: String,
    /// Newest first.
    pub commits: Vec<CommitInfo>,
    pub files: Vec<FileChange>,
    /// The worktree has changes not committed onto the branch yet (they are committed before
    /// a merge or when the branch is kept).
    pub uncommitted: bool,
    /// Everything on the branch is already in the target (merged, also by a squash).
    pub merged: bool,
}

/// How a task's branch was merged.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeKind {
    FastForward,
    MergeCommit,
    Squash,
    /// There was nothing left to merge.
    AlreadyMerged,
}

/// What a merge did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOutcome {
    pub kind: MergeKind,
    /// The branch merged into.
    pub into: String,
    /// The target branch's commit after the merge.
    pub commit: String,
}

/// Tasks per page of a [`TaskQuery`] when it names no limit.
pub const DEFAULT_PAGE: u32 = 50;

/// Most tasks in one page of a [`TaskQuery`].
pub const MAX_PAGE: u32 = 1000;

/// Which tasks of the history to list, a page at a time, newest first.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQuery {
    /// Only these statuses; empty: every status.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<TaskStatus>>", optional))]
    pub status: Vec<TaskStatus>,
    /// Words that must all appear, ignoring case, in the task's name, prompt, project folder
    /// or result text.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub search: Option<String>,
    /// Only tasks with a lower id: the `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub before: Option<TaskId>,
    /// Tasks per page: [`DEFAULT_PAGE`] when absent, at most [`MAX_PAGE`].
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<u32>,
}

impl TaskQuery {
    /// The page size this query asks for, within bounds.
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
    }

    /// The search words, lowercased; none for an empty or blank search.
    pub fn words(&self) -> Vec<String> {
        self.search
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect()
    }
}

/// One page of a [`TaskQuery`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskPage {
    /// Newest first.
    pub tasks: Vec<TaskRecord>,
    /// Pass as `before` for the next (older) page; none on the last page.
    pub next_cursor: Option<TaskId>,
    /// How many tasks match the query, on every page.
    pub total: u64,
}

/// Which pipe a line came from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
    /// A line Tasktray itself added (an internal failure, a note on cancel).
    Tasktray,
}

/// One line of a task's output. `seq` numbers every line of a task from 0, so a subscriber
/// can tell a gap from a repeat.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLine {
    pub seq: u64,
    pub stream: Stream,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub text: Arc<str>,
    /// The line was longer than the line limit: this is one piece, and the line goes on in the
    /// next one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
}

/// What the supervisor tells its subscribers. Events say what changed; the state itself is
/// always available from the queries, so a missed event never leaves a view wrong for long.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Event {
    Spawned {
        task: TaskId,
    },
    Started {
        task: TaskId,
    },
    /// New output lines of a task, consecutive, in sequence order (one event per read, not
    /// per line, so a flood does not flood the subscribers).
    Output {
        task: TaskId,
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<OutputLine>))]
        lines: Arc<[OutputLine]>,
    },
    Completed {
        task: TaskId,
    },
    Failed {
        task: TaskId,
        reason: String,
    },
    Cancelled {
        task: TaskId,
    },
    Removed {
        task: TaskId,
    },
    /// Writing history or a transcript failed; the task goes on.
    PersistFailed {
        task: TaskId,
        message: String,
    },
    /// A running task turned `waiting` (it needs the user) or back to `running`.
    StatusChanged {
        task: TaskId,
        status: TaskStatus,
    },
    /// The agent asks before using a tool; the task waits for an answer.
    ApprovalRequested {
        task: TaskId,
        approval: Box<Approval>,
    },
    /// A request was answered, timed out or withdrawn: it no longer waits.
    ApprovalResolved {
        task: TaskId,
        request_id: String,
        outcome: ApprovalOutcome,
    },
    /// A task's worktree was merged, kept or discarded, or got an end-of-task commit.
    WorktreeChanged {
        task: TaskId,
    },
}

impl Event {
    pub fn task(&self) -> TaskId {
        match self {
            Event::Spawned { task }
            | Event::Started { task }
            | Event::Output { task, .. }
            | Event::Completed { task }
            | Event::Failed { task, .. }
            | Event::Cancelled { task }
            | Event::Removed { task }
            | Event::PersistFailed { task, .. }
            | Event::StatusChanged { task, .. }
            | Event::ApprovalRequested { task, .. }
            | Event::ApprovalResolved { task, .. }
            | Event::WorktreeChanged { task } => *task,
        }
    }

    /// Completed, failed or cancelled.
    pub fn is_finish(&self) -> bool {
        matches!(
            self,
            Event::Completed { .. } | Event::Failed { .. } | Event::Cancelled { .. }
        )
    }
}
