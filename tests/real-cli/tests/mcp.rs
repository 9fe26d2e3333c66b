//! The real Claude Code CLI as an MCP client of `taskctl mcp`: the mock Messages API scripts a
//! `start_task` tool call, and the task appears in the app and runs. The app is stood in for by
//! a supervisor (with the workspace's fake agent) and its local API, booted in this process on a
//! socket in the sandbox.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use supervisor::{AgentSearch, ShimProgram, Supervisor, SupervisorConfig, TaskStatus};
use tasktray_api::{ApiServer, ApiState, FileSettings};
use tasktray_real_cli::{project_in, RealCli};
use tasktray_test_support::{bounded, wait_until_async, workspace_bin};

const STEP: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_starts_a_task_in_the_app_through_taskctl_mcp() {
    bounded(async {
        let cli = RealCli::new_with(|sandbox| {
            let target = project_in(sandbox, "target");
            json!({"turns": [
                {"tool_use": {"name": "mcp__tasktray__start_task", "input": {
                    "prompt": "fake: say started through MCP",
                    "project_dir": target,
                    "name": "from claude",
                }}},
                {"text": "The task is running in Tasktray."}
            ]})
        });
        // The app: a supervisor running the fake agent, and its API on the sandbox's socket.
        let run = cli.sandbox.path().join("run");
        std::fs::create_dir_all(&run).expect("runtime dir");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let mut config = SupervisorConfig::new(
            cli.sandbox.path().join("app-data"),
            AgentSearch {
                explicit: Some(workspace_bin("fake-claude")),
                ..AgentSearch::default()
            },
            ShimProgram {
                program: workspace_bin("tasktray-shim"),
            },
        );
        config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
        let app = Supervisor::start(config, tokio::runtime::Handle::current()).expect("app");
        let socket = tasktray_api::socket_path(Some(&run), nix::unistd::geteuid().as_raw());
        let server = ApiServer::start(
            &socket,
            ApiState::new(app.clone(), Arc::new(FileSettings::new(app.clone()))),
        )
        .expect("serve the API");

        let mcp_config = cli.sandbox.path().join("mcp.json");
        let servers = json!({"mcpServers": {"tasktray": {
            "type": "stdio",
            "command": workspace_bin("taskctl"),
            "args": ["mcp"],
            "env": {"XDG_RUNTIME_DIR": run},
        }}});
        std::fs::write(&mcp_config, servers.to_string()).expect("write the MCP config");
        let caller = cli.project("caller");
        let out = tokio::process::Command::new(&cli.claude)
            .args(["-p", "Start the background task", "--mcp-config"])
            .arg(&mcp_config)
            .args([
                "--strict-mcp-config",
                "--output-format",
                "stream-json",
                "--verbose",
                "--permission-mode",
                "bypassPermissions",
                "--no-session-persistence",
            ])
            .current_dir(&caller)
            .env_remove("CLAUDECODE")
            .envs(cli.agent_env())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("run claude");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "claude failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("\"name\":\"mcp__tasktray__start_task\""),
            "{stdout}"
        );

        // The task claude started runs in the app, in the folder it named.
        assert!(
            wait_until_async(STEP, || app
                .all()
                .iter()
                .any(|t| t.status == TaskStatus::Completed))
            .await,
            "no finished task in the app: {:?}\n{stdout}",
            app.all()
        );
        let task = app.all().into_iter().next().expect("the task");
        assert_eq!(task.name, "from claude");
        assert_eq!(task.project_dir, cli.project("target"));
        assert_eq!(task.result.expect("result").text, "started through MCP");
        // claude got the tool's answer (the new task) and went on to its last turn.
        let calls = cli.mock.model_calls();
        let last = calls.last().expect("a model call");
        let results: Vec<String> = last["body"]["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["content"].as_array())
            .flatten()
            .filter(|b| b["type"] == "tool_result")
            .map(|b| b["content"].to_string())
            .collect();
        assert_eq!(results.len(), 1, "{results:?}");
        assert!(
            results[0].contains(&format!("\\\"id\\\": {}", task.id))
                && results[0].contains("from claude"),
            "the tool's answer names the new task: {results:?}"
        );
        server.stop().await;
        app.shutdown(STEP).await;
    })
    .await;
}
