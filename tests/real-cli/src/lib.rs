//! Harness for driving the real Claude Code CLI through Tasktray, offline.
//!
//! Each test builds a [`RealCli`]: a temp dir (Tasktray's data dir, the projects, and the
//! agent's own home, config and temp dirs), a mock of the Anthropic Messages API on 127.0.0.1
//! (`tests/mock-api/mock_anthropic.py`, scripted per test, see its docstring), and the
//! environment that points the CLI at that mock. Nothing reaches the network, and the real
//! `~/.claude` is never read or written.
//!
//! Needs: the CLI installed by `npm ci --prefix tests` (`make test` does it), `python3`, and
//! the workspace's `tasktray-shim` and `taskctl` binaries (built by `cargo test --workspace`).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use supervisor::transcript::{self, Entry};
use supervisor::{
    AgentSearch, OutputFormat, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig, TaskId,
    TaskOptions, TaskRecord, MARKER_ENV,
};
use tasktray_test_support::{wait_until, workspace_bin, Sandbox};

pub use serde_json::json;

/// The grace period of the real-CLI tests: cancel must be done within this plus a second.
pub const GRACE: Duration = Duration::from_secs(2);

/// The API key the CLI sends to the mock; the mock records it (and redacts any other).
pub const DUMMY_API_KEY: &str = "sk-test-dummy";

/// How long the mock may take to start and write its port file.
const MOCK_START: Duration = Duration::from_secs(15);

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .expect("tests/real-cli lives two levels below the workspace root")
        .to_path_buf()
}

/// The real CLI, as `npm ci --prefix tests` installs it; panics with how to install it.
pub fn claude_bin() -> PathBuf {
    let path = workspace_root().join("tests/node_modules/.bin/claude");
    assert!(
        path.is_file(),
        "the real Claude Code CLI is missing at {}: run `npm ci --prefix tests` (make test does it)",
        path.display()
    );
    path
}

/// The CLI version `tests/package.json` pins.
pub fn pinned_version() -> String {
    let path = workspace_root().join("tests/package.json");
    let text = fs::read_to_string(&path).expect("read tests/package.json");
    let package: Value = serde_json::from_str(&text).expect("tests/package.json is JSON");
    package["dependencies"]["@anthropic-ai/claude-code"]
        .as_str()
        .expect("tests/package.json pins @anthropic-ai/claude-code")
        .to_owned()
}

/// A running mock of the Messages API, killed when dropped. Its stdin is a lifeline: if the
/// test process dies without dropping it, the mock reads EOF and exits by itself.
#[derive(Debug)]
pub struct MockApi {
    child: Child,
    lifeline: Option<ChildStdin>,
    port: u16,
    record: PathBuf,
    stderr: PathBuf,
}

impl MockApi {
    /// Starts the mock with `script` (see `tests/mock-api/mock_anthropic.py`), keeping its
    /// files in `dir`, and waits for its port with a deadline.
    pub fn start(dir: &Path, script: &Value) -> Self {
        fs::create_dir_all(dir).expect("create the mock's folder");
        let script_path = dir.join("script.json");
        fs::write(&script_path, script.to_string()).expect("write the mock's script");
        let port_file = dir.join("port");
        let record = dir.join("requests.jsonl");
        let stderr = dir.join("mock.stderr");
        let mut child = Command::new("python3")
            .arg(workspace_root().join("tests/mock-api/mock_anthropic.py"))
            .arg("--port-file")
            .arg(&port_file)
            .arg("--script")
            .arg(&script_path)
            .arg("--record")
            .arg(&record)
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).expect("create the mock's stderr file"))
            .spawn()
            .expect("start python3 tests/mock-api/mock_anthropic.py (is python3 installed?)");
        let lifeline = child.stdin.take();
        let mut mock = MockApi {
            child,
            lifeline,
            port: 0,
            record,
            stderr,
        };
        let mut exited = false;
        wait_until(MOCK_START, || {
            exited = !matches!(mock.child.try_wait(), Ok(None));
            exited || port_file.is_file()
        });
        let port = fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse().ok());
        match port {
            Some(port) if !exited => mock.port = port,
            _ => panic!(
                "the mock Messages API did not start within {MOCK_START:?} (exited: {exited}); its stderr:\n{}",
                mock.stderr_text()
            ),
        }
        mock
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the CLI gets as `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far, as the mock recorded it (method, path, headers, body, turn).
    pub fn requests(&self) -> Vec<Value> {
        fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            // A line being written right now is skipped; it is read on the next call.
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The model calls of conversations (requests with tools), in arrival order; side calls
    /// (titles, checks) are left out.
    pub fn model_calls(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["turn"]["index"].is_u64())
            .collect()
    }

    /// The distinct `x-claude-code-session-id`s of the model calls.
    pub fn sessions(&self) -> BTreeSet<String> {
        self.model_calls()
            .iter()
            .filter_map(|r| r["headers"]["x-claude-code-session-id"].as_str())
            .map(str::to_owned)
            .collect()
    }

    /// The mock's own stderr (Python tracebacks), for failure messages.
    pub fn stderr_text(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One test's world: a temp dir, a mock API with its script, and the real CLI pointed at it.
#[derive(Debug)]
pub struct RealCli {
    pub sandbox: Sandbox,
    pub mock: MockApi,
    pub claude: PathBuf,
}

impl RealCli {
    /// A fresh temp dir and a mock that answers from `script`.
    pub fn new(script: Value) -> Self {
        Self::new_with(|_| script)
    }

    /// Like [`Self::new`], for a script that needs paths of the sandbox (a Write tool's
    /// absolute `file_path`, see [`project_in`]).
    pub fn new_with(script: impl FnOnce(&Sandbox) -> Value) -> Self {
        let claude = claude_bin();
        let sandbox = Sandbox::new();
        let script = script(&sandbox);
        let mock = MockApi::start(&sandbox.path().join("mock"), &script);
        let cli = RealCli {
            sandbox,
            mock,
            claude,
        };
        for dir in [cli.home(), cli.claude_config_dir(), cli.claude_tmp_dir()] {
            fs::create_dir_all(dir).expect("create the agent's folders");
        }
        cli
    }

    /// The agent's `HOME`.
    pub fn home(&self) -> PathBuf {
        self.sandbox.path().join("home")
    }

    /// The agent's `CLAUDE_CONFIG_DIR` (settings, sessions for `--resume`).
    pub fn claude_config_dir(&self) -> PathBuf {
        self.sandbox.path().join("claude-config")
    }

    /// The agent's `CLAUDE_CODE_TMPDIR`.
    pub fn claude_tmp_dir(&self) -> PathBuf {
        self.sandbox.path().join("claude-tmp")
    }

    /// A fresh project folder, by its canonical path (the one the task records and the CLI
    /// sees as its working directory).
    pub fn project(&self, name: &str) -> PathBuf {
        project_in(&self.sandbox, name)
    }

    /// The variables that isolate the CLI and point it at the mock.
    pub fn isolated_env(&self) -> Vec<(OsString, OsString)> {
        let home = self.home();
        let pairs: [(&str, OsString); 15] = [
            ("HOME", home.clone().into()),
            ("XDG_CONFIG_HOME", home.join(".config").into()),
            ("XDG_DATA_HOME", home.join(".local/share").into()),
            ("XDG_CACHE_HOME", home.join(".cache").into()),
            ("XDG_STATE_HOME", home.join(".local/state").into()),
            ("CLAUDE_CONFIG_DIR", self.claude_config_dir().into()),
            ("CLAUDE_CODE_TMPDIR", self.claude_tmp_dir().into()),
            ("ANTHROPIC_BASE_URL", self.mock.base_url().into()),
            ("ANTHROPIC_API_KEY", DUMMY_API_KEY.into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            // No retries: an API error ends the run at once instead of minutes later.
            ("CLAUDE_CODE_MAX_RETRIES", "0".into()),
            // Tests run as root in CI, where bypassPermissions is refused without it.
            ("IS_SANDBOX", "1".into()),
            ("NO_PROXY", "127.0.0.1,localhost".into()),
            ("no_proxy", "127.0.0.1,localhost".into()),
            ("LANG", "C.UTF-8".into()),
        ];
        pairs
            .into_iter()
            .map(|(key, value)| (OsString::from(key), value))
            .collect()
    }

    /// The supervisor's `extra_env`: [`Self::isolated_env`], plus an empty value for every
    /// variable of this process that would otherwise reach the agent and change where it
    /// connects or what it reads (the developer's `ANTHROPIC_*`, `CLAUDE_*`, proxies). The
    /// supervisor passes its own environment on to the agent and `extra_env` goes on top, so
    /// the test's values always win.
    pub fn agent_env(&self) -> Vec<(OsString, OsString)> {
        let mut env = self.isolated_env();
        for (key, _) in std::env::vars_os() {
            if leaks_into_agent(&key) && !env.iter().any(|(k, _)| *k == key) {
                env.push((key, OsString::new()));
            }
        }
        env
    }

    /// A supervisor config: this sandbox's data dir, the real CLI, the workspace's
    /// `tasktray-shim`, [`GRACE`], and [`Self::agent_env`].
    pub fn config(&self) -> SupervisorConfig {
        let mut config = SupervisorConfig::new(
            self.sandbox.data_dir(),
            AgentSearch {
                explicit: Some(self.claude.clone()),
                ..AgentSearch::default()
            },
            ShimProgram {
                program: workspace_bin("tasktray-shim"),
            },
        );
        config.grace = GRACE;
        config.extra_env = self.agent_env();
        config
    }

    /// A supervisor with [`Self::config`], on the current tokio runtime.
    pub fn supervisor(&self) -> Supervisor {
        Supervisor::start(self.config(), tokio::runtime::Handle::current())
            .expect("the supervisor starts")
    }

    /// `taskctl` with only the isolated environment (plus `PATH`), this sandbox's data dir and
    /// the real CLI as `TASKTRAY_AGENT`.
    pub fn taskctl(&self) -> Command {
        let mut cmd = Command::new(workspace_bin("taskctl"));
        cmd.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .envs(self.isolated_env())
            .env("TASKTRAY_DATA_DIR", self.sandbox.data_dir())
            // No app answers there: `taskctl run` runs the task itself.
            .env("XDG_RUNTIME_DIR", self.sandbox.path().join("run"))
            .env("TASKTRAY_AGENT", &self.claude)
            .stdin(Stdio::null());
        cmd
    }
}

/// The project folder `name` of `sandbox` (created if needed), by its canonical path.
pub fn project_in(sandbox: &Sandbox, name: &str) -> PathBuf {
    fs::canonicalize(sandbox.project(name)).expect("canonical project path")
}

/// Whether a variable of the test process could steer the agent away from the mock or the
/// temp dirs: credentials and endpoints (`ANTHROPIC_*`), the CLI's own settings (`CLAUDE_*`,
/// except `CLAUDECODE`, which the supervisor removes itself), and proxies.
fn leaks_into_agent(key: &OsStr) -> bool {
    let Some(key) = key.to_str() else {
        return false;
    };
    let upper = key.to_ascii_uppercase();
    let agent_setting =
        (key.starts_with("ANTHROPIC_") || key.starts_with("CLAUDE")) && key != "CLAUDECODE";
    agent_setting || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY")
}

/// A stream-json request in `project`, with the session thrown away (the default) and tools
/// run without asking (`bypassPermissions`; the tests of approvals ask for `default`).
pub fn request(project: &Path, prompt: &str) -> SpawnRequest {
    SpawnRequest {
        name: String::new(),
        prompt: prompt.to_owned(),
        project_dir: project.to_path_buf(),
        options: TaskOptions {
            permission_mode: supervisor::PermissionMode::BypassPermissions,
            ..TaskOptions::default()
        },
        follow_up_of: None,
        queue: false,
    }
}

/// A text-format request.
pub fn text_request(project: &Path, prompt: &str) -> SpawnRequest {
    let mut req = request(project, prompt);
    req.options.format = OutputFormat::Text;
    req
}

/// Spawns and waits for the end.
pub async fn run_to_end(sup: &Supervisor, req: SpawnRequest) -> TaskRecord {
    let id = sup.spawn(req).expect("spawn");
    sup.wait(id).await.expect("wait")
}

/// The readable entries of a task's whole output log.
pub fn entries(sup: &Supervisor, id: TaskId) -> Vec<Entry> {
    sup.log_text(id)
        .expect("the task's log")
        .lines()
        .flat_map(transcript::parse_line)
        .collect()
}

/// The transcript file a finished task left in its project.
pub fn transcript_file(record: &TaskRecord) -> String {
    let path = supervisor::report::transcript_path(record);
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read the transcript {}: {e}", path.display()))
}

/// Live processes that carry task `id`'s marker.
pub fn task_processes(sup: &Supervisor, id: TaskId) -> Vec<i32> {
    supervisor::procfs::marked(MARKER_ENV, &sup.marker(id))
}

/// A process's argv, empty when it is gone.
pub fn cmdline(pid: i32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// A process's environment, empty when it is gone.
pub fn environ(pid: i32) -> Vec<(String, String)> {
    fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// The text of every block of one role in a recorded request's messages, in order.
pub fn message_texts(request: &Value, role: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let messages = request["body"]["messages"].as_array().cloned();
    for message in messages.unwrap_or_default() {
        if message["role"] != role {
            continue;
        }
        match &message["content"] {
            Value::String(text) => texts.push(text.clone()),
            Value::Array(blocks) => texts.extend(
                blocks
                    .iter()
                    .filter_map(|b| b["text"].as_str().map(str::to_owned)),
            ),
            _ => {}
        }
    }
    texts
}

/// A Bash tool call as the model sends it.
pub fn bash(command: &str) -> Value {
    json!({"tool_use": {"name": "Bash", "input": {"command": command, "description": "run a command"}}})
}
