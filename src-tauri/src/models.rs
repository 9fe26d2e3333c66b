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

/// The user's settings, shared with `taskctl` and the local API (kept by the core).
pub use supervisor::Settings;

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
    /// The task's worktree was merged, kept or discarded: re-read the task and its review.
    WorktreeChanged,
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
        /// Queued tasks of this app: quitting keeps them, and they start when it starts again.
        queued: u32,
    },
}

/// The New task form's unsent draft, as the user left it. The window (and its page) is
/// destroyed when closed, so the app keeps the draft for the next window's form
/// ([`crate::state::KeptDraft`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Draft {
    pub project_dir: String,
    pub name: String,
    pub prompt: String,
    pub format: OutputFormat,
    pub permission_mode: PermissionMode,
    /// As typed; empty for the agent's default.
    pub model: String,
    pub keep_session: bool,
    /// "Queue if the project is busy".
    pub queue: bool,
    /// "Own worktree" (a draft of a window before the option has none: off).
    #[serde(default)]
    pub worktree: bool,
}

/// Event names, shared by the forwarder, the tray and the tests.
pub mod events {
    pub const TASK_CHANGED: &str = "task://changed";
    pub const TASK_OUTPUT: &str = "task://output";
    pub const TASK_RESYNC: &str = "task://resync";
    pub const NAVIGATE: &str = "app://navigate";
}
