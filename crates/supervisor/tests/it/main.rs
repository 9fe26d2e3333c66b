//! Integration tests of the supervisor against real processes: the `fake-claude` agent of this
//! workspace, started through the real shim. One test binary, a module per area.

mod errors;
mod history;
mod index;
mod lifecycle;
mod output;
mod processes;
mod queue;
mod two_way;
mod worktree;

use std::path::{Path, PathBuf};
use std::time::Duration;

use supervisor::{
    AgentSearch, OutputFormat, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig, TaskId,
    TaskOptions, TaskRecord,
};
use tasktray_test_support::{workspace_bin, Sandbox};

/// Grace period in tests: long enough for a clean SIGTERM exit, short enough to keep the
/// SIGKILL cases quick.
pub const TEST_GRACE: Duration = Duration::from_millis(800);

pub fn config(sandbox: &Sandbox) -> SupervisorConfig {
    let mut config = SupervisorConfig::new(
        sandbox.data_dir(),
        AgentSearch {
            explicit: Some(workspace_bin("fake-claude")),
            ..AgentSearch::default()
        },
        ShimProgram {
            program: PathBuf::from(env!("CARGO_BIN_EXE_tasktray-shim")),
        },
    );
    config.grace = TEST_GRACE;
    // Tests run as root in CI, where the agent refuses bypassPermissions without it.
    config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
    config
}

pub fn start(config: SupervisorConfig) -> Supervisor {
    Supervisor::start(config, tokio::runtime::Handle::current()).expect("supervisor starts")
}

pub fn request(project: &Path, prompt: &str) -> SpawnRequest {
    SpawnRequest {
        name: String::new(),
        prompt: prompt.to_owned(),
        project_dir: project.to_path_buf(),
        options: TaskOptions::default(),
        follow_up_of: None,
        queue: false,
    }
}

pub fn text_request(project: &Path, prompt: &str) -> SpawnRequest {
    let mut req = request(project, prompt);
    req.options.format = OutputFormat::Text;
    req
}

pub async fn run_to_end(sup: &Supervisor, req: SpawnRequest) -> TaskRecord {
    let id = sup.spawn(req).expect("spawn");
    sup.wait(id).await.expect("wait")
}

/// The pid the fake agent printed after `label` (`tool-child pid N`, `daemon pid N`).
pub fn printed_pid(sup: &Supervisor, id: TaskId, label: &str) -> Option<i32> {
    let text = sup.output_text(id).ok()?;
    let at = text.find(label)? + label.len();
    let digits: String = text[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Live processes that carry the task's marker.
pub fn task_processes(sup: &Supervisor, id: TaskId) -> Vec<i32> {
    let marker = sup.marker(id);
    tasktray_test_support::processes_with_env(
        supervisor::MARKER_ENV,
        marker.to_str().expect("markers are ASCII"),
    )
}
