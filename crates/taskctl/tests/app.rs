//! `taskctl` verbs that act on the app's tasks through its local API: an app is stood in for by
//! a supervisor and the API server booted in this process, on a socket in a temp runtime dir.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use supervisor::{
    AgentSearch, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig, TaskId, TaskOptions,
    TaskStatus,
};
use tasktray_api::{ApiError, ApiServer, ApiState, SettingsStore};
use tasktray_test_support::{bounded, wait_until_async, workspace_bin, Sandbox};

const PATIENCE: Duration = Duration::from_secs(20);

/// The app's settings, for the API: none to speak of here.
struct NoSettings;

impl SettingsStore for NoSettings {
    fn get(&self) -> Value {
        Value::Null
    }
    fn save(&self, value: Value) -> Result<Value, ApiError> {
        Ok(value)
    }
}

struct App {
    sandbox: Sandbox,
    sup: Supervisor,
    server: Option<ApiServer>,
}

impl App {
    /// A supervisor on the sandbox's data dir, serving the API when `serve`.
    fn start(serve: bool) -> App {
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
            let state = ApiState::new(sup.clone(), Arc::new(NoSettings));
            ApiServer::start(path, state).expect("serve the API")
        });
        App {
            sandbox,
            sup,
            server,
        }
    }

    fn spawn(&self, project: &str, prompt: &str) -> TaskId {
        self.sup
            .spawn(SpawnRequest {
                name: String::new(),
                prompt: prompt.to_owned(),
                project_dir: self.sandbox.project(project),
                options: TaskOptions::default(),
                follow_up_of: None,
            })
            .expect("spawn")
    }

    fn project(&self, name: &str) -> PathBuf {
        self.sandbox.path().join("projects").join(name)
    }

    /// Runs `taskctl args...` as a user of this app (its runtime dir and data dir).
    async fn taskctl(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_taskctl"))
            .args(args)
            .env("XDG_RUNTIME_DIR", self.sandbox.path().join("run"))
            .env("TASKTRAY_DATA_DIR", self.sandbox.data_dir())
            .env("HOME", self.sandbox.path())
            .env_remove("XDG_DATA_HOME")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("run taskctl")
    }

    async fn wait_asking(&self, id: TaskId, count: usize) {
        assert!(
            wait_until_async(PATIENCE, || self.sup.approvals(id).len() == count).await,
            "task {id} never had {count} open requests"
        );
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        self.sup.shutdown(PATIENCE).await;
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_listed_and_answered_from_the_terminal() {
    bounded(async {
        let app = App::start(true);
        let id = app.spawn("p", "fake: ask Bash touch x.txt; ask Bash touch y.txt");
        app.wait_asking(id, 1).await;
        let out = app.taskctl(&["approvals"]).await;
        let listed = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            listed.contains(&format!("#{id} Bash asks to use Bash: touch x.txt")),
            "{listed}"
        );

        let out = app.taskctl(&["approve", &id.to_string()]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("allowed"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .approvals(id)
                .first()
                .is_some_and(|a| a.summary() == "touch y.txt"))
            .await
        );
        let denied = app
            .taskctl(&["approve", &id.to_string(), "--deny", "--message", "not y"])
            .await;
        assert_eq!(denied.status.code(), Some(0), "{}", text(&denied.stderr));

        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
        assert!(app.project("p").join("x.txt").exists());
        assert!(!app.project("p").join("y.txt").exists());
        assert!(app
            .sup
            .log_text(id)
            .expect("log")
            .contains("ask denied: not y"));

        // Nothing left to answer: a clear error, exit 2.
        let none = app.taskctl(&["approve", &id.to_string()]).await;
        assert_eq!(none.status.code(), Some(2));
        assert!(!text(&none.stderr).is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_cancel_reach_the_apps_tasks() {
    bounded(async {
        let app = App::start(true);
        let id = app.spawn("a", "fake: say ready; wait-message");
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .output_text(id)
                .is_ok_and(|t| t.contains("ready")))
            .await
        );
        let sent = app.taskctl(&["send", &id.to_string(), "use tabs"]).await;
        assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
        let done = app.sup.get(id).expect("task");
        assert_eq!(
            done.result.expect("result").text,
            "ready\ngot message: use tabs"
        );

        let long = app.spawn("b", "fake: sleep 300");
        let cancelled = app.taskctl(&["cancel", &long.to_string()]).await;
        assert_eq!(
            cancelled.status.code(),
            Some(130),
            "{}",
            text(&cancelled.stderr)
        );
        assert_eq!(
            app.sup.get(long).expect("task").status,
            TaskStatus::Cancelled
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_the_verbs_say_so_and_wait_reads_the_history() {
    bounded(async {
        let app = App::start(false);
        let out = app.taskctl(&["approvals"]).await;
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("Tasktray is not running"),
            "{}",
            text(&out.stderr)
        );
        let id = app.spawn("p", "fake: sleep 0.3; result error it broke");
        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(
            waited.status.code(),
            Some(1),
            "a failed task: {}",
            text(&waited.stderr)
        );
        assert!(
            text(&waited.stderr).contains("it broke"),
            "{}",
            text(&waited.stderr)
        );
        app.stop().await;
    })
    .await;
}
