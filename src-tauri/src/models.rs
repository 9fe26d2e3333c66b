//! What crosses IPC besides the core's own types: output as the UI shows it, settings, the
//! agent check, and event payloads. TypeScript types are generated from these (see
//! `tests/bindings.rs`), so the UI and the backend cannot drift apart.

use serde::{Deserialize, Serialize};
use supervisor::transcript::{self, Entry};
use supervisor::{OutputFormat, OutputLine, PermissionMode, Stream, TaskId};
use ts_rs::TS;

/// One output line with its readable transcript entries (parsed here, once, in Rust).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LineView {
    pub seq: u64,
    pub stream: Stream,
    pub text: String,
    pub continued: bool,
    /// The transcript entries of this line; empty for stream-json events that are not shown.
    pub entries: Vec<Entry>,
}

impl LineView {
    pub fn new(line: &OutputLine, format: OutputFormat) -> Self {
        let text: &str = &line.text;
        let entries = match (format, line.stream) {
            // Tasktray's own lines of a two-way task (answers, messages) are JSON too.
            (OutputFormat::StreamJson, Stream::Stdout | Stream::Tasktray) if !line.continued => {
                transcript::parse_line(text)
            }
            _ => vec![Entry::Plain {
                text: text.to_owned(),
            }],
        };
        LineView {
            seq: line.seq,
            stream: line.stream,
            text: text.to_owned(),
            continued: line.continued,
            entries,
        }
    }
}

/// A run of consecutive output lines.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct OutputPage {
    pub lines: Vec<LineView>,
    /// Sequence number of `lines[0]` (or `next_seq` when empty).
    pub first_seq: u64,
    /// The number of lines the task has produced so far.
    pub next_seq: u64,
}

impl OutputPage {
    pub fn new(lines: &[OutputLine], format: OutputFormat, next_seq: u64) -> Self {
        OutputPage {
            first_seq: lines.first().map_or(next_seq, |l| l.seq),
            next_seq,
            lines: lines.iter().map(|l| LineView::new(l, format)).collect(),
        }
    }
}

/// The user's settings, persisted in the data dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// The claude binary; found automatically when empty.
    pub agent_path: Option<String>,
    pub default_format: OutputFormat,
    pub default_permission_mode: PermissionMode,
    pub default_model: Option<String>,
    pub keep_session_by_default: bool,
    /// Desktop notifications when a task completes or fails.
    pub notifications: bool,
    /// Output lines kept in memory per task.
    pub ring_lines: u32,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled.
    pub grace_secs: f64,
    /// Minutes a request waits for an answer before it is denied (also how long a task whose
    /// turn was stopped waits for a new instruction); 0 waits as long as the task runs.
    pub approval_timeout_mins: u32,
    /// Tools every task may use without asking, as typed (`Read Grep Bash(git log *)`).
    pub allowed_tools: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            agent_path: None,
            default_format: OutputFormat::StreamJson,
            default_permission_mode: PermissionMode::Default,
            default_model: None,
            keep_session_by_default: false,
            notifications: true,
            ring_lines: supervisor::DEFAULT_RING_LINES as u32,
            grace_secs: supervisor::DEFAULT_GRACE.as_secs_f64(),
            approval_timeout_mins: (supervisor::DEFAULT_APPROVAL_TIMEOUT.as_secs() / 60) as u32,
            allowed_tools: String::new(),
        }
    }
}

/// What was found when looking for the agent.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AgentInfo {
    pub path: Option<String>,
    pub version: Option<String>,
    pub error: Option<String>,
}

/// `task://changed`: something about a task changed; re-read it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TaskChanged {
    pub id: TaskId,
    pub kind: ChangeKind,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Spawned,
    Started,
    Completed,
    Failed,
    Cancelled,
    Removed,
    PersistFailed,
    /// Running <-> waiting for the user.
    StatusChanged,
    /// The agent asks before a tool: re-read the open requests (`message` is the request id).
    ApprovalRequested,
    /// A request was answered, timed out or withdrawn (`message` is the request id).
    ApprovalResolved,
}

/// `task://output`: new lines of one task, batched.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TaskOutput {
    pub id: TaskId,
    pub lines: Vec<LineView>,
}

/// `task://resync`: lines were dropped on the way; re-read the task's output.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TaskResync {
    pub id: TaskId,
}

/// `app://navigate`: show a view (from the tray menu or a notification).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "view", rename_all = "camelCase")]
pub enum Navigate {
    Task {
        id: TaskId,
    },
    New,
    Settings,
    /// Quitting with tasks running: ask the user first. `tasks` are the ones this app runs,
    /// which quitting stops (another host's, such as `taskctl --local`, go on).
    ConfirmQuit {
        tasks: Vec<TaskId>,
    },
}

/// Event names, shared by the forwarder, the tray and the tests.
pub mod events {
    pub const TASK_CHANGED: &str = "task://changed";
    pub const TASK_OUTPUT: &str = "task://output";
    pub const TASK_RESYNC: &str = "task://resync";
    pub const NAVIGATE: &str = "app://navigate";
}
