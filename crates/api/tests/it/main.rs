//! Integration tests of the API: the server booted in-process on a temp socket, over a real
//! supervisor on a temp data dir that runs the workspace's fake agent through the real shim.
//! One test binary, a module per area. Build the binaries first:
//! `cargo build -p fake-claude -p supervisor --bins`.

mod client;
mod errors;
mod events;
mod meta;
mod socket;
mod tasks;
mod two_way;
mod worktree;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use supervisor::{AgentSearch, ShimProgram, Supervisor, SupervisorConfig};
use tasktray_api::{socket_path, ApiServer, ApiState, FileSettings};
use tasktray_test_support::{workspace_bin, Sandbox};

pub use client::{Client, Reply};

/// How long a condition may take to come true.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How often a condition is checked.
const POLL: Duration = Duration::from_millis(20);

/// A server on a temp socket over a supervisor on a temp data dir.
#[derive(Debug)]
pub struct Harness {
    pub sandbox: Sandbox,
    pub supervisor: Supervisor,
    pub server: Option<ApiServer>,
    pub socket: PathBuf,
    pub client: Client,
}

pub fn config(sandbox: &Sandbox) -> SupervisorConfig {
    let mut config = SupervisorConfig::new(
        sandbox.data_dir(),
        AgentSearch {
            explicit: Some(workspace_bin("fake-claude")),
            ..AgentSearch::default()
        },
        ShimProgram {
            program: workspace_bin("tasktray-shim"),
        },
    );
    config.grace = Duration::from_millis(800);
    // Tests run as root in CI, where the agent refuses bypassPermissions without it.
    config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
    config
}

/// The state the API serves: the supervisor and the settings in its data dir.
pub fn state(supervisor: &Supervisor) -> ApiState {
    let settings = FileSettings::new(supervisor.clone());
    ApiState::new(supervisor.clone(), Arc::new(settings))
}

impl Harness {
    pub fn start() -> Self {
        Harness::start_with(|_| {})
    }

    pub fn start_with(change: impl FnOnce(&mut SupervisorConfig)) -> Self {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        change(&mut config);
        let supervisor = Supervisor::start(config, tokio::runtime::Handle::current())
            .expect("the supervisor starts");
        let runtime_dir = sandbox.path().join("run");
        std::fs::create_dir(&runtime_dir).expect("a runtime dir");
        let socket = socket_path(Some(&runtime_dir), nix::unistd::geteuid().as_raw());
        let server = ApiServer::start(&socket, state(&supervisor)).expect("the server starts");
        Harness {
            client: Client::new(&socket),
            sandbox,
            supervisor,
            server: Some(server),
            socket,
        }
    }

    pub fn project(&self, name: &str) -> PathBuf {
        self.sandbox.project(name)
    }

    /// Starts a task through the API and returns its id.
    pub async fn spawn(&self, project: &Path, prompt: &str, options: Value) -> u64 {
        let reply = self
            .client
            .post(
                "/v1/tasks",
                &json!({"prompt": prompt, "project_dir": project, "options": options}),
            )
            .await;
        reply.expect(201)["id"].as_u64().expect("an id")
    }

    /// Waits for a task's end through the API and returns its final record.
    pub async fn wait(&self, id: u64) -> Value {
        self.client
            .get(&format!("/v1/tasks/{id}/wait"))
            .await
            .expect(200)
    }

    /// Polls a task until its status is `status`.
    pub async fn wait_for_status(&self, id: u64, status: &str) -> Value {
        eventually(&format!("task {id} {status}"), async || {
            let record = self.client.get(&format!("/v1/tasks/{id}")).await.json();
            (record["status"] == status).then_some(record)
        })
        .await
    }

    /// Polls a task's output tail until a line contains `needle`.
    pub async fn wait_for_output(&self, id: u64, needle: &str) {
        eventually(&format!("{needle:?} in task {id}'s output"), async || {
            let page = self
                .client
                .get(&format!("/v1/tasks/{id}/output"))
                .await
                .json();
            page["lines"]
                .as_array()?
                .iter()
                .any(|l| l["text"].as_str().is_some_and(|t| t.contains(needle)))
                .then_some(())
        })
        .await;
    }

    /// Stops the server and the supervisor (every task's tree).
    pub async fn finish(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        self.supervisor.shutdown(Duration::from_secs(5)).await;
    }
}

/// Polls `check` until it gives a value; panics after [`PATIENCE`].
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {PATIENCE:?}: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}
