//! The app, stood in for by a supervisor and the API server booted in the test's process on a
//! socket in a temp runtime dir, and `taskctl` run as a user of it. Shared by the test binaries
//! that drive the app's tasks through `taskctl` (each uses part of it).
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use supervisor::{
    AgentSearch, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig, TaskId, TaskOptions,
};
use tasktray_api::{ApiServer, ApiState, FileSettings};
use tasktray_test_support::{wait_until_async, workspace_bin, Sandbox};

pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct App {
    pub sandbox: Sandbox,
    pub sup: Supervisor,
    server: Option<ApiServer>,
}

impl App {
    /// A supervisor on the sandbox's data dir, serving the API when `serve`.
    pub fn start(serve: bool) -> App {
        let sandbox = Sandbox::new();
        let mut config = SupervisorConfig::new(
            sandbox.data_dir(),
            AgentSearch {
                explicit: Some(workspace_bin("fake-claude")),
                ..AgentSearch::default()
            },
            ShimProgram {
                program: PathBuf::from(env!("CARGO_BIN_EXE_taskctl")),
            },
        );
        config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
        let sup = Supervisor::start(config, tokio::runtime::Handle::current()).expect("start");
        let run = sandbox.path().join("run");
        std::fs::create_dir_all(&run).expect("runtime dir");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let server = serve.then(|| {
            let path = tasktray_api::socket_path(Some(&run), nix::unistd::geteuid().as_raw());
            let state = ApiState::new(sup.clone(), Arc::new(FileSettings::new(sup.clone())));
            ApiServer::start(path, state).expect("serve the API")
        });
        App {
            sandbox,
            sup,
            server,
        }
    }

    pub fn spawn(&self, project: &str, prompt: &str) -> TaskId {
        self.sup
            .spawn(SpawnRequest {
                name: String::new(),
                prompt: prompt.to_owned(),
                project_dir: self.sandbox.project(project),
                options: TaskOptions::default(),
                follow_up_of: None,
                queue: false,
            })
            .expect("spawn")
    }

    pub fn project(&self, name: &str) -> PathBuf {
        self.sandbox.path().join("projects").join(name)
    }

    /// `taskctl` as a user of this app (its runtime dir and data dir), stdin closed.
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_taskctl"));
        command
            .env("XDG_RUNTIME_DIR", self.sandbox.path().join("run"))
            .env("TASKTRAY_DATA_DIR", self.sandbox.data_dir())
            .env("HOME", self.sandbox.path())
            .env_remove("XDG_DATA_HOME")
            // For `run --local`: the agent, and root's permission to bypass permissions.
            .env("TASKTRAY_AGENT", workspace_bin("fake-claude"))
            .env("IS_SANDBOX", "1")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `taskctl args...` to its end.
    pub async fn taskctl(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .await
            .expect("run taskctl")
    }

    pub async fn wait_asking(&self, id: TaskId, count: usize) {
        assert!(
            wait_until_async(PATIENCE, || self.sup.approvals(id).len() == count).await,
            "task {id} never had {count} open requests"
        );
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        self.sup.shutdown(PATIENCE).await;
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
