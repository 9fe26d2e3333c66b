//! One module per verb.

mod answer;
mod approvals;
mod approve;
mod cancel;
mod follow;
mod list;
mod logs;
mod mcp;
mod printer;
mod remote;
mod run;
mod send;
mod shell;
mod show;
mod wait;
mod worktree;

use std::path::PathBuf;
use std::time::Duration;

use supervisor::{
    AgentSearch, History, Settings, ShimProgram, Supervisor, SupervisorConfig, TaskId,
};

use crate::cli::{Cli, Command};
use crate::paths;

pub fn dispatch(cli: Cli) -> Result<i32, String> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::FollowUp(args) => run::follow_up(args),
        Command::List(args) => list::list(args),
        Command::Show(args) => show::show(args),
        Command::Logs(args) => logs::logs(args),
        Command::Approvals(args) => approvals::approvals(args),
        Command::Approve(args) => answer::approve(args),
        Command::Send(args) => send::send(args),
        Command::Cancel(args) => cancel::cancel(args),
        Command::Wait(args) => wait::wait(args),
        Command::Follow(args) => follow::follow(args),
        Command::Mcp => mcp::mcp(),
        Command::Diff(args) => worktree::diff(args),
        Command::Merge(args) => worktree::merge(args),
        Command::Discard(args) => worktree::discard(args),
        Command::KeepBranch(args) => worktree::keep_branch(args),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
    }
}

/// Runs `call` against the app's local API on a small runtime of its own.
fn with_app<T>(
    call: impl AsyncFnOnce(&tasktray_api::client::Client) -> Result<T, String>,
) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let client = tasktray_api::client::Client::for_user();
    runtime.block_on(call(&client))
}

/// Prints a line to stdout; a reader that went away (`| head`) ends nothing.
fn out(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The shared history, opened read-mostly.
fn history() -> Result<History, String> {
    let dir = paths::data_dir()?;
    History::open(&dir).map_err(|e| e.to_string())
}

fn parse_id(raw: &str) -> Result<TaskId, String> {
    raw.parse()
        .map_err(|_| format!("{raw:?} is not a task id (a number, as `taskctl list` shows)"))
}

/// A supervisor on `runtime` for a `run` or `follow-up`, with this binary as the shim, run
/// with the saved `settings` (the agent, the bounds, the running limit) and what the command
/// line overrides.
fn supervisor(
    settings: &Settings,
    agent: Option<PathBuf>,
    grace: Option<f64>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Supervisor, String> {
    let shim =
        ShimProgram::current_exe().map_err(|e| format!("cannot find the taskctl binary: {e}"))?;
    let mut config = SupervisorConfig::new(paths::data_dir()?, AgentSearch::from_env(None), shim);
    settings.apply(&mut config);
    if let Some(agent) = agent {
        config.agent.explicit = Some(agent);
    }
    if let Some(grace) = grace {
        config.grace = Duration::from_secs_f64(grace);
    }
    Supervisor::start(config, runtime.handle().clone()).map_err(|e| e.to_string())
}
