//! `taskctl mcp`: a Model Context Protocol server on stdin/stdout that gives an AI agent
//! Tasktray's tasks. Every tool is a thin call to the app's local API through the shared
//! client; what goes wrong (the app not running, a task that does not exist) comes back as a
//! tool result with `isError`, never as a failed server. It runs until stdin closes; stdout is
//! the protocol, so logs go to stderr only.

use std::time::Duration;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use supervisor::{Decision, OutputFormat};
use tasktray_api::client::Client;

/// What the server tells its client about itself.
const INSTRUCTIONS: &str = "Tasktray is a Linux tray app that runs Claude Code tasks (an \
AI coding agent working on a prompt in a project folder) in the background. These tools start \
such tasks, follow them, read their output, send them messages, answer their permission \
requests and cancel them. They need the Tasktray app to be running. A task's status is one of \
queued (it waits for its turn and starts by itself), pending, running, waiting (it asks for permission: see list_approvals and answer_approval), \
completed, failed, cancelled or interrupted.";

/// Readable output lines `task_output` returns unless told otherwise.
const DEFAULT_TAIL: usize = 50;
/// The most lines `task_output` returns.
const MAX_TAIL: usize = 2000;
/// The most bytes of diff `review_task` returns.
const MAX_DIFF: usize = 100 * 1024;
/// Pages of raw output `task_output` reads at most to fill its tail.
const MAX_PAGES: usize = 20;

pub fn mcp() -> Result<i32, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let server = Tasktray {
        client: Client::for_user(),
    };
    let result = runtime.block_on(async {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("the MCP session did not start: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| format!("the MCP server stopped: {e}"))?;
        Ok(0)
    });
    // A read of stdin still pending on the blocking pool must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// The server: a client of the app's API.
#[derive(Debug, Clone)]
struct Tasktray {
    client: Client,
}

/// How the agent of a new task treats tools that need permission.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
enum PermissionMode {
    /// Ask before every tool that needs permission (the task then waits for an answer).
    Default,
    /// Accept file edits without asking; ask for the rest.
    AcceptEdits,
    /// Let the agent decide what is safe to run.
    Auto,
    /// Never ask: deny what is not allowed already.
    DontAsk,
    /// Ask for everything.
    Manual,
    /// Plan only: no edits, no commands.
    Plan,
    /// Run anything without asking (dangerous).
    BypassPermissions,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct StartTask {
    /// What the agent should do, as you would tell Claude Code.
    prompt: String,
    /// Absolute path of the project folder the agent works in.
    project_dir: String,
    /// A short name for the task [default: derived from the prompt].
    #[serde(default)]
    name: Option<String>,
    /// How the agent treats tools that need permission [default: "default", which asks; its
    /// questions then wait in list_approvals].
    #[serde(default)]
    permission_mode: Option<PermissionMode>,
    /// If the folder is busy, queue the task to start when it frees instead of failing
    /// [default: false]. Over Tasktray's running limit a task is queued either way.
    #[serde(default)]
    queue: Option<bool>,
    /// Run in a git worktree of its own, on a new branch from the repository's HEAD, so
    /// several tasks can work in one repository at once; review it with review_task and merge
    /// or discard it when it ends [default: false]. project_dir must be in a git repository.
    #[serde(default)]
    worktree: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ReviewTask {
    /// The task's id.
    id: u64,
    /// Also return the unified diff (cut at 100 KB) [default: false: files and commits only].
    #[serde(default)]
    with_diff: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct MergeTask {
    /// The task's id.
    id: u64,
    /// One squashed commit instead of the branch's commits [default: false].
    #[serde(default)]
    squash: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct DiscardWorktree {
    /// The task's id.
    id: u64,
    /// Also when the branch holds work that is not merged anywhere: that work is lost. Only
    /// when the user said so [default: false].
    #[serde(default)]
    force: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ListTasks {
    /// Only tasks with these statuses, comma-separated, e.g. "running,waiting". Statuses:
    /// queued, pending, running, waiting, completed, failed, cancelled, interrupted.
    #[serde(default)]
    status: Option<String>,
    /// At most this many tasks, newest first.
    #[serde(default)]
    limit: Option<u32>,
    /// Only tasks whose name, prompt, project folder or result contains every word of this,
    /// ignoring case, e.g. "login bug".
    #[serde(default)]
    search: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TaskRef {
    /// The task's id (a number, as start_task and list_tasks return).
    id: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TaskOutput {
    /// The task's id.
    id: u64,
    /// How many of the last readable lines to return [default: 50, at most 2000].
    #[serde(default)]
    tail: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SendMessage {
    /// The task's id.
    id: u64,
    /// The message, as a user would type it to the agent.
    message: String,
}

/// An answer to a permission request.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Answer {
    /// Run the tool this once.
    Allow,
    /// Run it, and allow what matches it for the rest of the task.
    AllowAlways,
    /// Do not run it; the agent is told `message` and goes on.
    Deny,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AnswerApproval {
    /// The task that asks.
    id: u64,
    /// The request's `request_id`, from list_approvals.
    request_id: String,
    /// allow, allow_always or deny.
    decision: Answer,
    /// With deny: what the agent is told (why, or what to do instead).
    #[serde(default)]
    message: Option<String>,
}

#[tool_router]
impl Tasktray {
    #[tool(
        description = "Start a new background task in Tasktray (a Linux tray app that runs \
Claude Code agents in the background): a Claude Code agent works on `prompt` in the project \
folder `project_dir` while you do other things. Returns the new task's id and status (pending \
or running; queued when it waits for its turn, then it starts by itself). Follow it with \
get_task and task_output; if it asks for permission (status waiting), answer with \
list_approvals and answer_approval. Only one task runs in a folder at a time: a busy folder is \
an error that names the task holding it, unless `queue` is true."
    )]
    async fn start_task(&self, Parameters(args): Parameters<StartTask>) -> CallToolResult {
        let mut options = serde_json::Map::new();
        if let Some(mode) = args.permission_mode {
            options.insert("permission_mode".into(), json!(mode));
        }
        if let Some(worktree) = args.worktree {
            options.insert("worktree".into(), json!(worktree));
        }
        let body = json!({
            "name": args.name.unwrap_or_default(),
            "prompt": args.prompt,
            "project_dir": args.project_dir,
            "options": options,
            "queue": args.queue.unwrap_or(false),
        });
        reply(self.client.post("/v1/tasks", &body).await.map(|task| {
            json!({
                "id": task["id"],
                "name": task["name"],
                "status": task["status"],
                "project_dir": task["project_dir"],
                "branch": task["worktree"]["branch"],
            })
        }))
    }

    #[tool(
        description = "Review what a finished worktree task of Tasktray (a Linux tray app that runs Claude Code agents in the background) changed: its branch, the branch it started from (`target`), the files with added and removed lines, its commits, whether it is already merged (`merged`), and with `with_diff` the unified diff. Use it before merge_task or discard_worktree."
    )]
    async fn review_task(&self, Parameters(args): Parameters<ReviewTask>) -> CallToolResult {
        let review = match self
            .client
            .get(&format!("/v1/tasks/{}/review", args.id))
            .await
        {
            Ok(review) => review,
            Err(e) => return reply(Err(e.to_string())),
        };
        let files: Vec<Value> = review["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| json!({"path": f["path"], "old_path": f["old_path"], "added": f["added"], "removed": f["removed"]}))
            .collect();
        let mut summary = json!({
            "id": args.id,
            "branch": review["worktree"]["branch"],
            "worktree": review["worktree"]["path"],
            "state": review["worktree"]["state"],
            "target": review["target"],
            "merged": review["merged"],
            "uncommitted": review["uncommitted"],
            "files": files,
            "commits": review["commits"],
        });
        if args.with_diff.unwrap_or(false) {
            let mut diff: String = review["files"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    f["patch"]
                        .as_str()
                        .unwrap_or("(too large: see the task's diff in Tasktray)\n")
                        .to_owned()
                })
                .collect();
            if diff.len() > MAX_DIFF {
                let mut cut = MAX_DIFF;
                while !diff.is_char_boundary(cut) {
                    cut -= 1;
                }
                diff.truncate(cut);
                diff.push_str("\n[cut at 100 KB]\n");
            }
            summary["diff"] = json!(diff);
        }
        reply(Ok::<_, String>(summary))
    }

    #[tool(
        description = "Merge a finished worktree task's branch into the branch it started from, in the repository's main folder (Tasktray, a Linux tray app that runs Claude Code agents in the background): a fast-forward when possible, else a merge commit, or with `squash` one commit. Refused with nothing changed when it would conflict (the files are named) or when the main folder has uncommitted changes in the files it touches."
    )]
    async fn merge_task(&self, Parameters(args): Parameters<MergeTask>) -> CallToolResult {
        let uri = format!(
            "/v1/tasks/{}/merge?squash={}",
            args.id,
            args.squash.unwrap_or(false)
        );
        reply(self.client.post(&uri, &json!({})).await)
    }

    #[tool(
        description = "Remove a finished worktree task's worktree and branch (Tasktray, a Linux tray app that runs Claude Code agents in the background). Refused while the branch holds work that is not merged anywhere; `force` discards it anyway: only when the user asked for that."
    )]
    async fn discard_worktree(
        &self,
        Parameters(args): Parameters<DiscardWorktree>,
    ) -> CallToolResult {
        let uri = format!(
            "/v1/tasks/{}/discard?force={}",
            args.id,
            args.force.unwrap_or(false)
        );
        reply(
            self.client
                .post(&uri, &json!({}))
                .await
                .map(|_| json!({"id": args.id, "discarded": true})),
        )
    }

    #[tool(
        description = "List the tasks of Tasktray (a Linux tray app that runs Claude Code \
agents in the background), newest first, optionally only those matching a search. Returns JSON \
`{tasks, next_cursor, total}`: each task has its id, name, prompt, project_dir, status (queued, \
pending, running, waiting, completed, failed, cancelled, interrupted), times in ms since the epoch, \
and once it ended its result. Use it to find a task's id, to find past work on a subject, or to see \
what is running."
    )]
    async fn list_tasks(&self, Parameters(args): Parameters<ListTasks>) -> CallToolResult {
        let mut query = Vec::new();
        if let Some(status) = args.status.filter(|s| !s.trim().is_empty()) {
            query.push(format!("status={}", encode(status.trim())));
        }
        if let Some(limit) = args.limit {
            query.push(format!("limit={limit}"));
        }
        if let Some(search) = args.search.filter(|s| !s.trim().is_empty()) {
            query.push(format!("search={}", encode(search.trim())));
        }
        let uri = if query.is_empty() {
            "/v1/tasks".to_owned()
        } else {
            format!("/v1/tasks?{}", query.join("&"))
        };
        reply(self.client.get(&uri).await)
    }

    #[tool(
        description = "Get one task of Tasktray (a Linux tray app that runs Claude Code agents \
in the background). Returns the task as JSON: its status (queued, pending, running, waiting for a \
permission answer, completed, failed, cancelled, interrupted), prompt, project_dir, times, and \
once it ended its `result` (the agent's final answer in `result.text`, and the cost) or why it \
failed (`failure`). Use it to check whether a task has finished and how."
    )]
    async fn get_task(&self, Parameters(args): Parameters<TaskRef>) -> CallToolResult {
        reply(self.client.get(&format!("/v1/tasks/{}", args.id)).await)
    }

    #[tool(
        description = "Read the recent output of a task of Tasktray (a Linux tray app that runs \
Claude Code agents in the background) as readable text: what the agent said, the tools it used \
and their results, one entry per line. Returns the last `tail` lines (default 50). Use it to \
see what a running task is doing or what a finished one did."
    )]
    async fn task_output(&self, Parameters(args): Parameters<TaskOutput>) -> CallToolResult {
        let tail = args.tail.unwrap_or(DEFAULT_TAIL).clamp(1, MAX_TAIL);
        reply_text(output(&self.client, args.id, tail).await)
    }

    #[tool(
        description = "Cancel a running task of Tasktray (a Linux tray app that runs Claude \
Code agents in the background): its agent and every process it started are stopped (SIGTERM, \
then SIGKILL after a grace period). Returns the task as it is now; its status becomes \
cancelled shortly after. A task that already ended is an error."
    )]
    async fn cancel_task(&self, Parameters(args): Parameters<TaskRef>) -> CallToolResult {
        reply(
            self.client
                .post(&format!("/v1/tasks/{}/cancel", args.id), &json!({}))
                .await,
        )
    }

    #[tool(
        description = "Send a message into a running task of Tasktray (a Linux tray app that \
runs Claude Code agents in the background), as if its user typed it: the agent takes it into \
its current turn or as its next one. Use it to steer, correct or add to a task's work without \
starting a new one. Returns the task as it is now. A task that has ended is an error."
    )]
    async fn send_message(&self, Parameters(args): Parameters<SendMessage>) -> CallToolResult {
        reply(
            self.client
                .post(
                    &format!("/v1/tasks/{}/messages", args.id),
                    &json!({ "message": args.message }),
                )
                .await,
        )
    }

    #[tool(
        description = "List the open permission requests of every task of Tasktray (a Linux \
tray app that runs Claude Code agents in the background). A task whose agent wants to use a \
tool that needs permission (run a command, edit a file) waits, with status waiting, until \
someone answers. Returns JSON `{approvals}`: each has the task id (`task`), its `request_id`, \
the `tool` and its `input` (e.g. the command). Answer each with answer_approval."
    )]
    async fn list_approvals(&self) -> CallToolResult {
        reply(self.client.get("/v1/approvals").await)
    }

    #[tool(
        description = "Answer a permission request of a task of Tasktray (a Linux tray app \
that runs Claude Code agents in the background), found with list_approvals: `allow` runs the \
tool this once, `allow_always` also allows what matches it for the rest of the task, `deny` \
refuses it and tells the agent `message`. The task then goes on. Returns the task as it is \
now. A request already answered (by anyone) is an error."
    )]
    async fn answer_approval(
        &self,
        Parameters(args): Parameters<AnswerApproval>,
    ) -> CallToolResult {
        let decision = match args.decision {
            Answer::Allow => Decision::Allow,
            Answer::AllowAlways => Decision::AllowAlways,
            Answer::Deny => Decision::Deny {
                message: args.message,
            },
        };
        let body = match serde_json::to_value(&decision) {
            Ok(body) => body,
            Err(e) => return reply(Err(e.to_string())),
        };
        reply(
            self.client
                .post(
                    &format!(
                        "/v1/tasks/{}/approvals/{}",
                        args.id,
                        encode(&args.request_id)
                    ),
                    &body,
                )
                .await,
        )
    }
}

#[tool_handler]
impl ServerHandler for Tasktray {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("tasktray", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// The last `tail` readable lines of a task's output: its stream-json events rendered as its
/// transcript, other lines as they are. Reads pages back from the end until it has enough.
async fn output(client: &Client, id: u64, tail: usize) -> Result<String, String> {
    let task = client
        .get(&format!("/v1/tasks/{id}"))
        .await
        .map_err(|e| e.to_string())?;
    let format: OutputFormat =
        serde_json::from_value(task["options"]["format"].clone()).unwrap_or_default();
    let mut shown: Vec<String> = Vec::new();
    let mut before: Option<u64> = None;
    for _ in 0..MAX_PAGES {
        let uri = match before {
            Some(before) => format!("/v1/tasks/{id}/output?before={before}&count={tail}"),
            None => format!("/v1/tasks/{id}/output?count={tail}"),
        };
        let page = client.get(&uri).await.map_err(|e| e.to_string())?;
        let mut rendered: Vec<String> = Vec::new();
        for line in page["lines"].as_array().into_iter().flatten() {
            let text = line["text"].as_str().unwrap_or_default();
            rendered.extend(crate::render::output_line(format, text));
        }
        rendered.append(&mut shown);
        shown = rendered;
        before = page["before"].as_u64();
        if shown.len() >= tail || before.is_none() {
            break;
        }
    }
    let skip = shown.len().saturating_sub(tail);
    let text = shown[skip..].join("\n");
    if text.is_empty() {
        return Ok(format!("task {id} has no output yet"));
    }
    Ok(text)
}

/// A tool's result: the API's answer as JSON, or its error as an error result.
fn reply<E: ToString>(result: Result<Value, E>) -> CallToolResult {
    reply_text(
        result.map(|value| {
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
        }),
    )
}

fn reply_text<E: ToString>(result: Result<String, E>) -> CallToolResult {
    match result {
        Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

/// Percent-encodes all but the unreserved characters, for a query value or a path segment.
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_a_uri_cannot_hold() {
        assert_eq!(encode("running,waiting"), "running,waiting");
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
    }

    #[test]
    fn decisions_are_the_apis() {
        let deny = Decision::Deny {
            message: Some("no".into()),
        };
        assert_eq!(
            serde_json::to_value(&deny).expect("json"),
            json!({"decision": "deny", "message": "no"})
        );
        assert_eq!(
            serde_json::to_value(Decision::AllowAlways).expect("json"),
            json!({"decision": "allowAlways"})
        );
    }

    #[test]
    fn permission_modes_are_the_supervisors() {
        for mode in supervisor::PermissionMode::ALL {
            let ours: PermissionMode =
                serde_json::from_value(serde_json::to_value(mode).expect("json"))
                    .expect("a mode of ours");
            assert_eq!(
                serde_json::to_value(ours).expect("json"),
                serde_json::to_value(mode).expect("json")
            );
        }
    }

    #[test]
    fn every_tool_is_described() {
        let tools = Tasktray::tool_router().list_all();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        for name in [
            "start_task",
            "list_tasks",
            "get_task",
            "task_output",
            "cancel_task",
            "send_message",
            "list_approvals",
            "answer_approval",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        for tool in &tools {
            let description = tool.description.as_deref().unwrap_or_default();
            assert!(description.contains("Tasktray"), "{}", tool.name);
        }
    }
}
