//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use supervisor::{OutputFormat, PermissionMode};

#[derive(Debug, Parser)]
#[command(name = "taskctl", version, about = "Run Claude Code tasks in the background, from a terminal", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one task with live progress; Ctrl-C cancels it (the whole process tree).
    ///
    /// While the app runs, the task is handed to it (it then runs, notifies and shows in the
    /// window whatever happens to this terminal; `--agent` and `--grace` are the app's); else
    /// it runs in this process. Exits 0 when the task completed, 1 when it failed, 130 when it
    /// was cancelled, 2 when it could not start.
    Run(RunArgs),
    /// Continue a finished task's session with a new prompt (it must have kept its session).
    FollowUp(FollowUpArgs),
    /// List tasks, newest first.
    List(ListArgs),
    /// Show one task.
    Show(ShowArgs),
    /// Print a task's output.
    Logs(LogsArgs),
    /// List the questions of the app's tasks that wait for an answer (needs the app).
    Approvals(ApprovalsArgs),
    /// Answer a question of one of the app's tasks: allow it, or deny it (needs the app).
    Approve(ApproveArgs),
    /// Send a message into a running task of the app (needs the app).
    Send(SendArgs),
    /// Cancel a running task of the app: its whole process tree (needs the app).
    Cancel(TaskArgs),
    /// Wait until a task ends; exits as `run` does (0 completed, 1 failed, 130 cancelled).
    Wait(TaskArgs),
    /// Serve the app's tasks to an AI agent: a Model Context Protocol server on stdin/stdout
    /// (needs the app). Set it up with `claude mcp add tasktray -- taskctl mcp`.
    Mcp,
    /// Follow a running task of the app from this terminal: its output live, its questions
    /// asked here; Ctrl-C cancels it; exits as `run` does (needs the app).
    Follow(FollowArgs),
    /// Show what a worktree task changed: its whole diff, or with --stat the files.
    Diff(DiffArgs),
    /// Merge a finished worktree task's branch into the branch it started from, in the
    /// repository's main folder (a fast-forward when possible, else a merge commit). Refused
    /// with nothing changed on a conflict or when the main folder has uncommitted changes in
    /// the files it touches.
    Merge(MergeArgs),
    /// Remove a finished worktree task's worktree and branch; refused while the branch holds
    /// work that is not merged anywhere, unless --force.
    Discard(DiscardArgs),
    /// Remove a finished worktree task's worktree and keep its branch.
    KeepBranch(TaskArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell);
    /// the package installs them. E.g. `taskctl completions bash >
    /// ~/.local/share/bash-completion/completions/taskctl`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, taskctl(1), as roff (`taskctl man | man -l -`).
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct FollowArgs {
    pub id: String,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Who answers the agent's questions (as for `run`).
    #[arg(long, value_name = "HOW", value_enum)]
    pub approve: Option<Approve>,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The task that asks.
    pub id: String,
    /// Which of its questions [default: its oldest one].
    #[arg(long, value_name = "REQUEST_ID")]
    pub request: Option<String>,
    /// Deny instead of allow.
    #[arg(long, conflicts_with = "always")]
    pub deny: bool,
    /// With --deny: what the agent is told.
    #[arg(long, requires = "deny", value_name = "TEXT")]
    pub message: Option<String>,
    /// Allow this and what matches it for the rest of the task.
    #[arg(long)]
    pub always: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    pub id: String,
    /// The message; `-` reads it from stdin.
    #[arg(allow_hyphen_values = true)]
    pub message: String,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    pub id: String,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub id: String,
    /// The files changed and their added and removed lines, instead of the diff.
    #[arg(long)]
    pub stat: bool,
    /// Only these files.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    pub id: String,
    /// One squashed commit instead of the branch's commits.
    #[arg(long)]
    pub squash: bool,
}

#[derive(Debug, Args)]
pub struct DiscardArgs {
    pub id: String,
    /// Also when the branch holds work that is not merged anywhere.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Project folder to run in [default: the current folder].
    #[arg(short, long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A short name for the task [default: from the prompt].
    #[arg(short, long)]
    pub name: Option<String>,
    /// Start the task in the app and return at once, printing its id (needs the app).
    #[arg(long, conflicts_with = "local")]
    pub detach: bool,
    /// Run the task in this process even when the app runs (then the app does not own it).
    #[arg(long)]
    pub local: bool,
    /// When the project is busy, queue the task: it starts when the project frees (over the
    /// running limit in Settings a task is queued either way).
    #[arg(long)]
    pub queue: bool,
    /// Run in a git worktree of its own, on a new branch `tasktray/<id>-<name>` from the
    /// repository's HEAD, so other tasks can run in the same repository [default: as in
    /// Tasktray's Settings, off unless turned on there].
    #[arg(long, overrides_with = "no_worktree")]
    pub worktree: bool,
    /// Run in the folder itself, whatever Settings say.
    #[arg(long)]
    pub no_worktree: bool,
    #[command(flatten)]
    pub agent: AgentArgs,
    /// The prompt; `-` reads it from stdin.
    #[arg(value_name = "PROMPT", allow_hyphen_values = true)]
    pub prompt: String,
}

#[derive(Debug, Args)]
pub struct FollowUpArgs {
    /// The task to continue.
    pub id: String,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Who answers the agent's questions (as for `run`).
    #[arg(long, value_name = "HOW", value_enum)]
    pub approve: Option<Approve>,
    /// Path to the claude binary.
    #[arg(long, value_name = "PATH")]
    pub agent: Option<PathBuf>,
    /// The new prompt; `-` reads it from stdin.
    #[arg(value_name = "PROMPT", allow_hyphen_values = true)]
    pub prompt: String,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Agent output format: stream-json or text [default: as in Tasktray's Settings,
    /// stream-json unless changed there].
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<OutputFormat>,
    /// Agent permission mode: default (ask before tools that need permission), acceptEdits,
    /// auto, dontAsk, manual, plan, or bypassPermissions (runs anything without asking:
    /// dangerous) [default: as in Tasktray's Settings, "default" unless changed there].
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub permission_mode: Option<PermissionMode>,
    /// Tools the agent may use without asking, e.g. `--allowed-tools "Read Grep Bash(git *)"`
    /// (space- or comma-separated; may be repeated).
    #[arg(long, value_name = "RULES")]
    pub allowed_tools: Vec<String>,
    /// Who answers the agent's questions: `ask` on the terminal, or `allow` / `deny` every
    /// one [default: ask when stdin is a terminal, else deny at once].
    #[arg(long, value_name = "HOW", value_enum)]
    pub approve: Option<Approve>,
    /// Model to use [default: as in Tasktray's Settings, else the agent's own].
    #[arg(long)]
    pub model: Option<String>,
    /// Keep the agent's session so the task can be followed up [default: as in Tasktray's
    /// Settings].
    #[arg(long)]
    pub keep_session: bool,
    /// Path to the claude binary [default: the one set in Tasktray's Settings, then
    /// TASKTRAY_AGENT, then claude on PATH, then ~/.local/bin/claude].
    #[arg(long, value_name = "PATH")]
    pub agent: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when cancelling [default: as in Tasktray's
    /// Settings, 5].
    #[arg(long, value_name = "SECS")]
    pub grace: Option<f64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How `taskctl run` answers the agent's permission requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Approve {
    /// Ask on the terminal (answers are read from stdin, one line each).
    Ask,
    /// Allow every request.
    Allow,
    /// Deny every request.
    Deny,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct OutputArgs {
    /// Print the raw output lines instead of the readable transcript.
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// Print one JSON object per event.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only pending and running tasks.
    #[arg(long)]
    pub running: bool,
    /// At most this many tasks (the newest).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only tasks whose name, prompt, project folder or result contains every word of TEXT,
    /// ignoring case.
    #[arg(long, short = 's', value_name = "TEXT")]
    pub search: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    pub id: String,
    /// The raw output lines instead of the readable transcript.
    #[arg(long)]
    pub raw: bool,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    s.parse()
}

fn parse_mode(s: &str) -> Result<PermissionMode, String> {
    s.parse()
}
