//! Tasktray's core: runs Claude Code tasks (`claude -p ...`) as supervised process trees, keeps
//! their output and their history. No Tauri in here: the tray app and `taskctl` are two hosts
//! of the same [`Supervisor`].
//!
//! # Theory of operation
//!
//! [`Supervisor::spawn`] validates the request, takes an id (a counter under a file lock in the
//! data dir, so ids never repeat across restarts or processes), takes the project's lock (an
//! `flock`, so one task per project holds across processes), saves the record, and hands the
//! task to its own tokio task (`runner`), returning the id at once.
//!
//! The runner starts a **shim** ([`shim`]): the host binary re-executed in shim mode, the only
//! child of the host. The shim is a subreaper that starts the agent, adopts every process the
//! agent orphans, and on SIGTERM, on lifeline EOF (the host died) or when the agent exits with
//! leftovers, stops the whole tree: SIGTERM, the grace period, SIGKILL, reap. It exits with
//! the agent's status. Every process of a task also carries [`MARKER_ENV`], so a later host can
//! find and kill what a crash left behind.
//!
//! Output flows from the shim's pipes through a bounded line framer ([`framer`]) into the
//! task's log file on disk (all of it, as it arrives), its in-memory [`OutputRing`] (the
//! tail, numbered), and the broadcast event stream, pushed to the ring and the stream under
//! one lock so [`Supervisor::attach`] gets every line exactly once. stream-json lines are
//! watched for the session id and the final `result`, which decides the status.
//!
//! A stream-json task talks both ways (`conversation`, `protocol`): its prompt, later
//! messages ([`Supervisor::send`]), answers to the agent's requests ([`Supervisor::answer`])
//! and interrupts go to the agent's stdin, a pipe that the shim hands to the agent; the
//! agent's `can_use_tool` requests become [`Approval`]s that any host can list and answer, and
//! the task is `waiting` while one is open. The runner closes the agent's stdin once every
//! message was taken up and the last turn ended, which ends the agent.
//!
//! When the shim exits, the runner records the final status, writes the transcript into the
//! project ([`report`]), releases the project lock and sends the finish event.
//!
//! Invariants: only a task's runner touches its processes; every kill is followed by a reap;
//! every queue and buffer has a named bound; the core never panics while it owns children.

mod agent;
mod approval;
mod config;
mod conversation;
mod error;
mod framer;
mod git;
mod history;
mod index;
mod interact;
mod lock;
mod model;
mod observe;
pub mod paths;
pub mod procfs;
mod protocol;
mod queue;
mod reading;
pub mod report;
mod review;
mod ring;
mod runner;
pub mod settings;
pub mod shim;
mod supervisor;
mod table;
pub mod text;
pub mod transcript;
mod worktree;

pub use agent::{agent_args, tool_rules, AgentSearch, PromptInput, MAX_PROMPT_ARG_BYTES};
pub use approval::{tool_subject, Approval, ApprovalOutcome, Decision, DEFAULT_DENY_MESSAGE};
pub use config::{
    Clock, ShimProgram, SupervisorConfig, SystemClock, DEFAULT_APPROVAL_TIMEOUT, DEFAULT_GRACE,
};
pub use error::{Error, Result};
pub use framer::{LineEnd, LineFramer, DEFAULT_MAX_LINE_BYTES};
pub use history::{History, FORMAT_VERSION};
pub use lock::ProjectLock;
pub use model::{
    CommitInfo, Event, ExitInfo, FileChange, MergeKind, MergeOutcome, OutputFormat, OutputLine,
    PermissionMode, ProcessRef, RepoHead, ResultSummary, Review, SpawnRequest, Stream, TaskId,
    TaskOptions, TaskPage, TaskQuery, TaskRecord, TaskStatus, Worktree, WorktreeState,
    DEFAULT_PAGE, MAX_PAGE,
};
pub use reading::Attached;
pub use review::stray_worktrees;
pub use ring::{OutputRing, DEFAULT_RING_BYTES, DEFAULT_RING_LINES};
pub use settings::Settings;
pub use supervisor::Supervisor;
pub use table::{EVENT_CAPACITY, KEPT_RINGS, MARKER_ENV, MAX_EVENT_LINES, TRANSCRIPT_WRITERS};
pub use worktree::{diff_text, in_repository, StrayWorktree, FILE_PATCH_BYTES, REVIEW_PATCH_BYTES};
