//! One module per verb.

mod approve;
mod list;
mod logs;
mod run;
mod show;

use std::path::PathBuf;
use std::time::Duration;

use supervisor::{AgentSearch, History, ShimProgram, Supervisor, SupervisorConfig, TaskId};

use crate::cli::{Cli, Command};
use crate::paths;

pub fn dispatch(cli: Cli) -> Result<i32, String> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::FollowUp(args) => run::follow_up(args),
        Command::List(args) => list::list(args),
        Command::Show(args) => show::show(args),
        Command::Logs(args) => logs::logs(args),
    }
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

/// A supervisor on `runtime` for a `run` or `follow-up`, with this binary as the shim.
fn supervisor(
    agent: Option<PathBuf>,
    grace: Duration,
    runtime: &tokio::runtime::Runtime,
) -> Result<Supervisor, String> {
    let shim =
        ShimProgram::current_exe().map_err(|e| format!("cannot find the taskctl binary: {e}"))?;
    let mut config = SupervisorConfig::new(paths::data_dir()?, AgentSearch::from_env(agent), shim);
    config.grace = grace;
    Supervisor::start(config, runtime.handle().clone()).map_err(|e| e.to_string())
}
