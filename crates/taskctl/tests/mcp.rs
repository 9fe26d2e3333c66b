//! `taskctl mcp`: an MCP client (these tests, speaking JSON-RPC 2.0 over the child's stdin and
//! stdout, one object per line) drives the app's tasks through it. The app is stood in for by
//! a supervisor and the API server booted in this process, on a socket in a temp runtime dir,
//! as in `tests/app.rs` (see `common`).

mod common;

use std::process::Stdio;

use common::{App, PATIENCE};
use serde_json::{json, Value};
use supervisor::{TaskId, TaskStatus};
use tasktray_test_support::{bounded, wait_until_async};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const TOOLS: [&str; 11] = [
    "start_task",
    "list_tasks",
    "get_task",
    "task_output",
    "cancel_task",
    "send_message",
    "list_approvals",
    "answer_approval",
    "review_task",
    "merge_task",
    "discard_worktree",
];

impl App {
    /// `taskctl mcp` as a user of this app (its runtime dir and data dir), initialized.
    async fn mcp(&self) -> Mcp {
        let mut child = self
            .command()
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run taskctl mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut mcp = Mcp {
            child,
            stdin: Some(stdin),
            stdout,
            next_id: 1,
        };
        let init = mcp
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "taskctl-tests", "version": "0"},
                }),
            )
            .await;
        assert_eq!(init["result"]["serverInfo"]["name"], "tasktray", "{init}");
        assert!(
            init["result"]["capabilities"]["tools"].is_object(),
            "{init}"
        );
        mcp.notify("notifications/initialized").await;
        mcp
    }
}

/// A client of `taskctl mcp` over its stdin and stdout.
struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Mcp {
    async fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        let line = format!("{message}\n");
        tokio::time::timeout(PATIENCE, stdin.write_all(line.as_bytes()))
            .await
            .expect("write in time")
            .expect("write to taskctl mcp");
    }

    async fn notify(&mut self, method: &str) {
        self.send(json!({"jsonrpc": "2.0", "method": method})).await;
    }

    /// Sends a request and returns its response (skipping what the server sends meanwhile).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let line = tokio::time::timeout_at(deadline, self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within {PATIENCE:?}"))
                .expect("read taskctl mcp")
                .unwrap_or_else(|| panic!("taskctl mcp closed its stdout before answering"));
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Calls a tool; returns its text and whether it is an error.
    async fn call(&mut self, tool: &str, arguments: Value) -> (String, bool) {
        let answer = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await;
        let result = &answer["result"];
        assert!(result.is_object(), "{tool}: {answer}");
        let text = result["content"]
            .as_array()
            .expect("content")
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        (text, result["isError"] == json!(true))
    }

    /// Calls a tool that must succeed; returns its text.
    async fn ok(&mut self, tool: &str, arguments: Value) -> String {
        let (text, is_error) = self.call(tool, arguments).await;
        assert!(!is_error, "{tool} failed: {text}");
        text
    }

    /// Closes stdin: the server must end, with success.
    async fn close(mut self) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("taskctl mcp ends when stdin closes")
            .expect("wait");
        assert!(status.success(), "{status}");
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn task_id(value: &Value) -> TaskId {
    TaskId(value["id"].as_u64().expect("a task id"))
}

async fn wait_status(app: &App, id: TaskId, status: TaskStatus) {
    assert!(
        wait_until_async(PATIENCE, || app
            .sup
            .get(id)
            .is_some_and(|t| t.status == status))
        .await,
        "task {id} never became {status}: {:?}",
        app.sup.get(id).map(|t| t.status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_are_listed_with_descriptions_and_schemas() {
    bounded(async {
        let app = App::start(true);
        let mut mcp = app.mcp().await;
        let listed = mcp.request("tools/list", json!({})).await;
        let tools = listed["result"]["tools"].as_array().expect("tools");
        for name in TOOLS {
            let tool = tools
                .iter()
                .find(|t| t["name"] == name)
                .unwrap_or_else(|| panic!("{name} is not listed: {listed}"));
            let description = tool["description"].as_str().unwrap_or_default();
            assert!(description.contains("Tasktray"), "{name}: {description}");
            assert_eq!(tool["inputSchema"]["type"], "object", "{name}: {tool}");
        }
        let start = tools
            .iter()
            .find(|t| t["name"] == "start_task")
            .expect("start_task");
        let required = &start["inputSchema"]["required"];
        assert!(
            required.as_array().is_some_and(|r| r.len() == 2
                && r.contains(&json!("prompt"))
                && r.contains(&json!("project_dir"))),
            "{start}"
        );
        mcp.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_started_approved_and_read_through_mcp() {
    bounded(async {
        let app = App::start(true);
        let mut mcp = app.mcp().await;
        let project = app.sandbox.project("p");
        let started = json_of(
            &mcp.ok(
                "start_task",
                json!({
                    "prompt": "fake: ask Bash touch x.txt",
                    "project_dir": project,
                    "name": "touch it",
                    "permission_mode": "default",
                }),
            )
            .await,
        );
        let id = task_id(&started);
        assert!(started["status"].is_string(), "{started}");
        let task = app.sup.get(id).expect("the supervisor has the task");
        assert_eq!(task.name, "touch it");

        assert!(
            wait_until_async(PATIENCE, || app.sup.approvals(id).len() == 1).await,
            "task {id} never asked"
        );
        let approvals = json_of(&mcp.ok("list_approvals", json!({})).await);
        let request = &approvals["approvals"][0];
        assert_eq!(request["task"], json!(id.0), "{approvals}");
        let request_id = request["request_id"].as_str().expect("request_id");

        mcp.ok(
            "answer_approval",
            json!({"id": id.0, "request_id": request_id, "decision": "allow"}),
        )
        .await;
        wait_status(&app, id, TaskStatus::Completed).await;
        assert!(project.join("x.txt").exists());

        // Answered already: an error result, and the server goes on.
        let (again, is_error) = mcp
            .call(
                "answer_approval",
                json!({"id": id.0, "request_id": request_id, "decision": "deny", "message": "no"}),
            )
            .await;
        assert!(is_error, "{again}");

        let output = mcp.ok("task_output", json!({"id": id.0})).await;
        assert!(output.contains("touch x.txt"), "{output}");
        // The transcript, not the raw stream-json events.
        assert!(!output.contains("\"type\""), "{output}");
        let last = mcp.ok("task_output", json!({"id": id.0, "tail": 1})).await;
        assert_eq!(last.lines().count(), 1, "{last}");

        let got = json_of(&mcp.ok("get_task", json!({"id": id.0})).await);
        assert_eq!(got["status"], "completed", "{got}");
        let listed = json_of(&mcp.ok("list_tasks", json!({"status": "completed"})).await);
        assert_eq!(listed["tasks"][0]["id"], json!(id.0), "{listed}");
        let none = json_of(&mcp.ok("list_tasks", json!({"status": "running"})).await);
        assert_eq!(none["tasks"], json!([]), "{none}");
        let found = json_of(&mcp.ok("list_tasks", json!({"search": "TOUCH x.txt"})).await);
        assert_eq!(found["tasks"][0]["id"], json!(id.0), "{found}");
        assert_eq!(found["total"], 1, "{found}");
        let missed = json_of(&mcp.ok("list_tasks", json!({"search": "airship"})).await);
        assert_eq!(missed["total"], 0, "{missed}");

        let (missing, is_error) = mcp.call("get_task", json!({"id": 999_999})).await;
        assert!(is_error, "{missing}");
        assert!(!missing.is_empty());

        mcp.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_cancels_reach_the_tasks() {
    bounded(async {
        let app = App::start(true);
        let mut mcp = app.mcp().await;
        let talk = task_id(&json_of(
            &mcp.ok(
                "start_task",
                json!({
                    "prompt": "fake: say ready; wait-message",
                    "project_dir": app.sandbox.project("a"),
                }),
            )
            .await,
        ));
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .output_text(talk)
                .is_ok_and(|t| t.contains("ready")))
            .await
        );
        mcp.ok("send_message", json!({"id": talk.0, "message": "use tabs"}))
            .await;
        wait_status(&app, talk, TaskStatus::Completed).await;
        assert_eq!(
            app.sup
                .get(talk)
                .expect("task")
                .result
                .expect("result")
                .text,
            "ready\ngot message: use tabs"
        );

        let long = task_id(&json_of(
            &mcp.ok(
                "start_task",
                json!({"prompt": "fake: sleep 300", "project_dir": app.sandbox.project("b")}),
            )
            .await,
        ));
        mcp.ok("cancel_task", json!({"id": long.0})).await;
        wait_status(&app, long, TaskStatus::Cancelled).await;
        let got = json_of(&mcp.ok("get_task", json!({"id": long.0})).await);
        assert_eq!(got["status"], "cancelled", "{got}");

        mcp.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_the_tools_say_so() {
    bounded(async {
        let app = App::start(false);
        let mut mcp = app.mcp().await;
        let (text, is_error) = mcp.call("list_tasks", json!({})).await;
        assert!(is_error, "{text}");
        assert!(text.contains("Tasktray is not running"), "{text}");
        // The server is still there.
        let (text, is_error) = mcp.call("list_approvals", json!({})).await;
        assert!(
            is_error && text.contains("Tasktray is not running"),
            "{text}"
        );
        mcp.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_task_queues_in_a_busy_folder_when_asked() {
    bounded(async {
        let app = App::start(true);
        let mut mcp = app.mcp().await;
        let project = app.sandbox.project("p");
        let busy = app.spawn("p", "fake: say ready; wait-message");
        let start = |queue: Option<bool>| {
            let mut args = json!({"prompt": "fake: say queued work", "project_dir": project});
            if let Some(queue) = queue {
                args["queue"] = json!(queue);
            }
            args
        };
        let (refused, is_error) = mcp.call("start_task", start(None)).await;
        assert!(is_error, "{refused}");
        assert!(refused.contains(&format!("task {busy}")), "{refused}");

        let queued = json_of(&mcp.ok("start_task", start(Some(true))).await);
        assert_eq!(queued["status"], "queued", "{queued}");
        let id = task_id(&queued);
        let listed = json_of(&mcp.ok("list_tasks", json!({"status": "queued"})).await);
        assert_eq!(listed["tasks"][0]["id"], json!(id.0), "{listed}");

        app.sup.send(busy, "go on").expect("release");
        wait_status(&app, id, TaskStatus::Completed).await;
        mcp.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_task_is_reviewed_and_merged_through_mcp() {
    bounded(async {
        let app = App::start(true);
        let mut mcp = app.mcp().await;
        let repo = tasktray_test_support::git_repo(&app.sandbox.project("repo"));
        let started = json_of(
            &mcp.ok(
                "start_task",
                json!({
                    "prompt": "fake: tool echo made by mcp > made.txt",
                    "project_dir": repo,
                    "worktree": true,
                }),
            )
            .await,
        );
        let id = task_id(&started);
        assert!(
            started["branch"]
                .as_str()
                .is_some_and(|b| b.starts_with(&format!("tasktray/{id}-"))),
            "{started}"
        );
        wait_status(&app, id, TaskStatus::Completed).await;
        let review = json_of(
            &mcp.ok("review_task", json!({"id": id.0, "with_diff": true}))
                .await,
        );
        assert_eq!(review["files"][0]["path"], "made.txt", "{review}");
        assert_eq!(review["merged"], false);
        assert!(review["diff"]
            .as_str()
            .is_some_and(|d| d.contains("+made by mcp")));
        // Unmerged work is not thrown away without force.
        let (refused, is_error) = mcp.call("discard_worktree", json!({"id": id.0})).await;
        assert!(is_error, "{refused}");
        assert!(refused.contains("no other branch has"), "{refused}");
        let merged = json_of(&mcp.ok("merge_task", json!({"id": id.0})).await);
        assert_eq!(merged["kind"], "fast-forward", "{merged}");
        assert!(repo.join("made.txt").exists());
        mcp.ok("discard_worktree", json!({"id": id.0})).await;
        mcp.close().await;
        app.stop().await;
    })
    .await;
}
