//! Claude Code's two-way host protocol, as its official SDKs speak it: JSON lines on the
//! agent's stdin (user messages, answers, control requests) and `control_request` lines among
//! its stream-json output. This module only builds and reads lines; the runner decides.
//!
//! Measured with Claude Code 2.1.332 against a mock Messages API:
//! - argv `-p --input-format stream-json --output-format stream-json --verbose
//!   --permission-prompt-tool stdio`; the prompt is the first user message, not an argument.
//! - `initialize` may be written together with the first message; it is answered with a
//!   `control_response` that the host only logs.
//! - A `can_use_tool` request waits for `{"behavior":"allow"}` (the original input runs unless
//!   `updatedInput` replaces it) or `{"behavior":"deny","message":...}` (the agent gets the
//!   message as an error tool result and goes on).
//! - `interrupt` ends the current turn with an `error_during_execution` result (in ~50 ms, its
//!   tools stopped); the process waits for the next user message.
//! - A message sent mid-turn is either folded into the running turn (while a tool runs: one
//!   `result` for both) or queued as a turn of its own (two results). So results cannot be
//!   counted against messages; with `--replay-user-messages` the agent echoes each message
//!   (`"isReplay":true`) when it takes it up, and the host knows when nothing is left.
//! - Closing stdin lets the agent finish its turn (denying further requests), then exit with
//!   0 after a success result, 1 after an error result. A line that is not JSON is fatal to
//!   the agent, so every line is written by `serde_json`.

use serde_json::{json, Value};

use crate::approval::{Approval, ApprovalOutcome};
use crate::model::TaskId;

/// The request id of the `initialize` request Tasktray sends first.
pub(crate) const INITIALIZE_ID: &str = "tasktray-initialize";

/// A line for the agent's stdin.
fn line(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

pub(crate) fn initialize() -> Vec<u8> {
    line(&json!({
        "type": "control_request",
        "request_id": INITIALIZE_ID,
        "request": {"subtype": "initialize", "hooks": null},
    }))
}

/// A user message: the prompt, or a later instruction into the same session.
pub(crate) fn user_message(text: &str) -> Vec<u8> {
    line(&json!({
        "type": "user",
        "message": {"role": "user", "content": text},
        "parent_tool_use_id": null,
        "session_id": "",
    }))
}

pub(crate) fn interrupt(request_id: &str) -> Vec<u8> {
    line(&json!({
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "interrupt"},
    }))
}

/// Lets the tool run with the input it asked for.
pub(crate) fn allow(approval: &Approval) -> Vec<u8> {
    success(
        &approval.request_id,
        json!({"behavior": "allow", "updatedInput": approval.input}),
    )
}

/// Refuses the tool; the agent reads `message` as the tool's error and goes on.
pub(crate) fn deny(request_id: &str, message: &str) -> Vec<u8> {
    success(request_id, json!({"behavior": "deny", "message": message}))
}

fn success(request_id: &str, response: Value) -> Vec<u8> {
    line(&json!({
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }))
}

/// The answer to a request Tasktray cannot serve.
pub(crate) fn error_response(request_id: &str, message: &str) -> Vec<u8> {
    line(&json!({
        "type": "control_response",
        "response": {"subtype": "error", "request_id": request_id, "error": message},
    }))
}

/// What a line of the agent's stdout asks of the host.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FromAgent {
    /// A tool waits for the user's permission (the approval's task and times are filled in
    /// by the runner).
    CanUseTool(Approval),
    /// The agent withdrew one of its requests.
    Cancel { request_id: String },
    /// A request Tasktray does not serve (hooks, SDK MCP servers, anything newer): it gets an
    /// error answer.
    Unsupported { request_id: String, subtype: String },
    /// A `control_request` without a usable id or body: logged, nothing to answer.
    Malformed { why: String },
    /// The agent took up one of the user messages sent to it (a replay).
    Taken,
    /// A turn ended (a `result` line; the runner reads those itself and adds this, so the
    /// conversation sees every line in order).
    TurnEnded,
}

/// Reads a stdout line of a two-way task; `None` for everything that is not a control
/// request (most lines, cheaply: only lines that mention `control_` are parsed).
pub(crate) fn from_agent(text: &str) -> Option<FromAgent> {
    if !text.contains("\"control_") && !text.contains("\"isReplay\"") {
        return None;
    }
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    let kind = value.get("type")?.as_str()?;
    if kind == "user" {
        return (value.get("isReplay").and_then(Value::as_bool) == Some(true))
            .then_some(FromAgent::Taken);
    }
    let request_id = value
        .get("request_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match kind {
        "control_cancel_request" => Some(match request_id {
            Some(request_id) => FromAgent::Cancel { request_id },
            None => FromAgent::Malformed {
                why: "a control_cancel_request without a request_id".into(),
            },
        }),
        "control_request" => {
            let Some(request_id) = request_id else {
                return Some(FromAgent::Malformed {
                    why: "a control_request without a request_id".into(),
                });
            };
            let request = value.get("request");
            let subtype = request
                .and_then(|r| r.get("subtype"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let request = match (subtype, request) {
                ("can_use_tool", Some(request)) => request,
                _ => {
                    return Some(FromAgent::Unsupported {
                        request_id,
                        subtype: subtype.to_owned(),
                    })
                }
            };
            let text_field = |key: &str| {
                request
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let Some(tool) = text_field("tool_name") else {
                return Some(FromAgent::Unsupported {
                    request_id,
                    subtype: "can_use_tool without a tool_name".into(),
                });
            };
            Some(FromAgent::CanUseTool(Approval {
                task: TaskId(0),
                request_id,
                tool,
                input: request.get("input").cloned().unwrap_or(Value::Null),
                description: text_field("description").or_else(|| text_field("decision_reason")),
                suggestions: request
                    .get("permission_suggestions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                blocked_path: text_field("blocked_path"),
                requested_at_ms: 0,
                expires_at_ms: None,
            }))
        }
        _ => None,
    }
}

/// The lines Tasktray adds to a two-way task's output, so the log and the transcript tell the
/// whole conversation: what the user said, and how each request was answered. They are JSON
/// with `"type":"tasktray"`, a type the agent never writes.
pub(crate) mod note {
    use super::*;

    pub(crate) fn message(text: &str) -> String {
        json!({"type": "tasktray", "subtype": "message", "text": text}).to_string()
    }

    pub(crate) fn interrupt() -> String {
        json!({"type": "tasktray", "subtype": "interrupt"}).to_string()
    }

    pub(crate) fn answer(
        approval: &Approval,
        outcome: ApprovalOutcome,
        message: Option<&str>,
    ) -> String {
        json!({
            "type": "tasktray",
            "subtype": "answer",
            "request_id": approval.request_id,
            "tool": approval.tool,
            "summary": approval.summary(),
            "outcome": outcome,
            "message": message,
        })
        .to_string()
    }

    /// A notice: why a request got an error answer, why the task ends, ...
    pub(crate) fn notice(text: &str) -> String {
        json!({"type": "tasktray", "subtype": "notice", "text": text}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request Claude Code 2.1.332 wrote for `echo made > made.txt` in `default` mode.
    const CAN_USE_TOOL: &str = r#"{"type":"control_request","request_id":"0c77c1b7-b507-4fb1-bef9-a7a2e83eed3e","request":{"subtype":"can_use_tool","tool_name":"Bash","display_name":"Bash","input":{"command":"echo made > made.txt","description":"write"},"description":"write","permission_suggestions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"echo made *"}],"behavior":"allow","destination":"localSettings"},{"type":"addDirectories","directories":["/tmp/p"],"destination":"session"}],"blocked_path":"/tmp/p/made.txt","tool_use_id":"toolu_000000000000000000000001"}}"#;

    #[test]
    fn reads_a_real_permission_request() {
        let Some(FromAgent::CanUseTool(approval)) = from_agent(CAN_USE_TOOL) else {
            panic!("a can_use_tool request");
        };
        assert_eq!(approval.request_id, "0c77c1b7-b507-4fb1-bef9-a7a2e83eed3e");
        assert_eq!(approval.tool, "Bash");
        assert_eq!(approval.summary(), "echo made > made.txt");
        assert_eq!(approval.blocked_path.as_deref(), Some("/tmp/p/made.txt"));
        assert_eq!(approval.suggestions.len(), 2);
        let allow: Value = serde_json::from_slice(&allow(&approval)).expect("json");
        assert_eq!(
            allow["response"]["response"]["updatedInput"]["command"],
            "echo made > made.txt"
        );
        assert_eq!(allow["response"]["request_id"], approval.request_id);
    }

    #[test]
    fn other_and_broken_requests() {
        assert_eq!(from_agent(r#"{"type":"assistant","message":{}}"#), None);
        assert_eq!(
            from_agent(
                r#"{"type":"control_request","request_id":"x","request":{"subtype":"hook_callback"}}"#
            ),
            Some(FromAgent::Unsupported {
                request_id: "x".into(),
                subtype: "hook_callback".into()
            })
        );
        assert!(matches!(
            from_agent(r#"{"type":"control_request"}"#),
            Some(FromAgent::Malformed { .. })
        ));
        assert!(matches!(
            from_agent(
                r#"{"type":"control_request","request_id":"y","request":{"subtype":"can_use_tool"}}"#
            ),
            Some(FromAgent::Unsupported { .. })
        ));
        let replay = r#"{"type":"user","message":{"role":"user","content":"go on"},"session_id":"s","parent_tool_use_id":null,"uuid":"u","timestamp":"t","isReplay":true}"#;
        assert_eq!(from_agent(replay), Some(FromAgent::Taken));
        // A control_response (the answer to our initialize) asks nothing.
        assert_eq!(
            from_agent(
                r#"{"type":"control_response","response":{"subtype":"success","request_id":"tasktray-initialize"}}"#
            ),
            None
        );
    }

    #[test]
    fn messages_are_single_lines_whatever_the_prompt() {
        let prompt = "line one\nline \"two\"\n".repeat(30_000);
        let bytes = user_message(&prompt);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
        let value: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(value["message"]["content"], prompt.as_str());
    }
}
