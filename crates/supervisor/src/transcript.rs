//! Reading Claude Code's stream-json output: each line is one JSON event; this turns them into
//! entries a person can read (assistant text, tool calls, tool results, notices, the result).
//! A line that is not JSON stays a plain line, so text output and stray stderr read fine too.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::approval::ApprovalOutcome;
use crate::model::ResultSummary;
use crate::protocol::{self, FromAgent};
use crate::text::shorten;

/// One readable item of a transcript.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Entry {
    /// A system notice, e.g. the session start.
    System { subtype: String, text: String },
    /// Text the assistant wrote.
    Text { text: String },
    /// A tool call, with a one-line summary of its input.
    #[serde(rename_all = "camelCase")]
    ToolCall {
        id: String,
        name: String,
        summary: String,
        input: Value,
    },
    /// What a tool returned.
    #[serde(rename_all = "camelCase")]
    ToolResult {
        tool_use_id: String,
        text: String,
        is_error: bool,
    },
    /// The final result of a turn.
    Result(ResultSummary),
    /// The agent asks before using a tool (a two-way task).
    #[serde(rename_all = "camelCase")]
    Approval {
        request_id: String,
        tool: String,
        summary: String,
        input: Value,
        blocked_path: Option<String>,
    },
    /// How a request was answered.
    #[serde(rename_all = "camelCase")]
    Answer {
        request_id: String,
        tool: String,
        summary: String,
        outcome: ApprovalOutcome,
        message: Option<String>,
    },
    /// What the user said to the running task.
    Message { text: String },
    /// A line that is not a stream-json event.
    Plain { text: String },
}

/// Parses one output line into entries (an assistant message can hold several blocks).
pub fn parse_line(line: &str) -> Vec<Entry> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return vec![Entry::Plain {
            text: line.to_owned(),
        }];
    }
    let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
        return vec![Entry::Plain {
            text: line.to_owned(),
        }];
    };
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "system" => vec![system_entry(&value)],
        // claude reports an API error twice: as a synthetic assistant message and in the result
        // line. The result says it once, with the facts.
        "assistant" if value.get("is_api_error_message").and_then(Value::as_bool) == Some(true) => {
            Vec::new()
        }
        "assistant" => content_blocks(&value)
            .iter()
            .filter_map(assistant_block)
            .collect(),
        "user" => content_blocks(&value)
            .iter()
            .filter_map(user_block)
            .collect(),
        "result" => vec![Entry::Result(summary(&value))],
        "control_request" => match protocol::from_agent(trimmed) {
            Some(FromAgent::CanUseTool(approval)) => vec![Entry::Approval {
                summary: approval.summary(),
                request_id: approval.request_id,
                tool: approval.tool,
                input: approval.input,
                blocked_path: approval.blocked_path,
            }],
            _ => Vec::new(),
        },
        "tasktray" => tasktray_entry(&value).into_iter().collect(),
        // Events we do not show (stream deltas, unknown future types).
        _ => Vec::new(),
    }
}

/// The summary of a `result` line, or `None` for any other line. Cheap for other lines: the
/// JSON is parsed only when the line can be a result event.
pub fn result_of(line: &str) -> Option<ResultSummary> {
    if !line.contains("\"result\"") {
        return None;
    }
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    (value.get("type")?.as_str()? == "result").then(|| summary(&value))
}

/// The session id of an init line (`{"type":"system","subtype":"init",...}`).
pub fn session_of_init(line: &str) -> Option<String> {
    if !line.contains("\"init\"") {
        return None;
    }
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    if value.get("type")?.as_str()? != "system" || value.get("subtype")?.as_str()? != "init" {
        return None;
    }
    Some(value.get("session_id")?.as_str()?.to_owned())
}

fn str_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn summary(value: &Value) -> ResultSummary {
    ResultSummary {
        is_error: value
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        subtype: str_field(value, "subtype"),
        text: result_text(value),
        cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
        session_cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
        num_turns: value.get("num_turns").and_then(Value::as_u64),
        denied_tools: value
            .get("permission_denials")
            .and_then(Value::as_array)
            .map_or(0, |denials| denials.len() as u64),
        duration_ms: value.get("duration_ms").and_then(Value::as_u64),
        session_id: value
            .get("session_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// The result's text; a failure before any answer (a lost session) has none, only `errors`.
fn result_text(value: &Value) -> String {
    let text = str_field(value, "result");
    if !text.is_empty() {
        return text;
    }
    match value.get("errors") {
        Some(Value::Array(errors)) => {
            let errors: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
            errors.join("; ")
        }
        _ => text,
    }
}

fn system_entry(value: &Value) -> Entry {
    let subtype = str_field(value, "subtype");
    let text = if subtype == "api_retry" {
        // One per retry, for minutes with claude's default retries: say why and when.
        let number = |key| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .map_or("?".to_owned(), |n| n.to_string())
        };
        let seconds = value
            .get("retry_delay_ms")
            .and_then(Value::as_u64)
            .unwrap_or(0) as f64
            / 1000.0;
        let cause = str_field(value, "error");
        let cause = if cause.is_empty() {
            String::new()
        } else {
            format!(" ({cause})")
        };
        format!(
            "API error {}{cause}, retry {} of {} in {seconds:.1}s",
            number("error_status"),
            number("attempt"),
            number("max_retries")
        )
    } else if subtype == "init" {
        let mut parts = vec![format!("session {}", str_field(value, "session_id"))];
        for key in ["model", "cwd", "permissionMode"] {
            let v = str_field(value, key);
            if !v.is_empty() {
                parts.push(format!("{key} {v}"));
            }
        }
        parts.join(" · ")
    } else {
        ["message", "content", "text"]
            .iter()
            .map(|k| str_field(value, k))
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| subtype.clone())
    };
    Entry::System { subtype, text }
}

/// A line Tasktray added to the conversation (see `protocol::note`).
fn tasktray_entry(value: &Value) -> Option<Entry> {
    Some(match value.get("subtype")?.as_str()? {
        "message" => Entry::Message {
            text: str_field(value, "text"),
        },
        "answer" => Entry::Answer {
            request_id: str_field(value, "request_id"),
            tool: str_field(value, "tool"),
            summary: str_field(value, "summary"),
            outcome: serde_json::from_value(value.get("outcome")?.clone()).ok()?,
            message: value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        "interrupt" => Entry::System {
            subtype: "interrupt".into(),
            text: "You stopped the turn".into(),
        },
        subtype => Entry::System {
            subtype: subtype.to_owned(),
            text: str_field(value, "text"),
        },
    })
}

fn content_blocks(value: &Value) -> Vec<Value> {
    match value.pointer("/message/content") {
        Some(Value::Array(blocks)) => blocks.clone(),
        Some(Value::String(text)) => vec![serde_json::json!({"type": "text", "text": text})],
        _ => Vec::new(),
    }
}

fn assistant_block(block: &Value) -> Option<Entry> {
    match block.get("type")?.as_str()? {
        "text" => Some(Entry::Text {
            text: str_field(block, "text"),
        }),
        "tool_use" => {
            let name = str_field(block, "name");
            let input = block.get("input").cloned().unwrap_or(Value::Null);
            Some(Entry::ToolCall {
                id: str_field(block, "id"),
                summary: summarize_input(&name, &input),
                name,
                input,
            })
        }
        _ => None,
    }
}

fn user_block(block: &Value) -> Option<Entry> {
    if block.get("type")?.as_str()? != "tool_result" {
        return None;
    }
    let text = match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    Some(Entry::ToolResult {
        tool_use_id: str_field(block, "tool_use_id"),
        text,
        is_error: block
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// A one-line view of a tool's input: the command, the file, the pattern, or compact JSON.
pub fn summarize_input(name: &str, input: &Value) -> String {
    let key = match name {
        "Bash" => "command",
        "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => "file_path",
        "Grep" | "Glob" => "pattern",
        "WebFetch" => "url",
        "WebSearch" => "query",
        "Task" | "Agent" => "description",
        _ => "",
    };
    let text = input
        .get(key)
        .and_then(Value::as_str)
        .map_or_else(|| input.to_string(), str::to_owned);
    shorten(text.lines().next().unwrap_or_default(), 160)
}

/// Renders entries as plain text, the way `taskctl` and transcript files show them.
pub fn render(entry: &Entry) -> String {
    match entry {
        Entry::System { text, .. } => format!("· {text}"),
        Entry::Text { text } => text.clone(),
        Entry::ToolCall { name, summary, .. } => format!("→ {name}: {summary}"),
        Entry::ToolResult { text, is_error, .. } => {
            let lines = text.lines().count();
            let first = shorten(text.lines().next().unwrap_or_default(), 160);
            let more = if lines > 1 {
                format!(" (+{} lines)", lines - 1)
            } else {
                String::new()
            };
            let mark = if *is_error { "✗" } else { "←" };
            format!("  {mark} {first}{more}")
        }
        Entry::Result(result) => render_result(result),
        Entry::Approval {
            tool,
            summary,
            blocked_path,
            ..
        } => {
            let outside = blocked_path
                .as_deref()
                .map(|p| format!(" (touches {p})"))
                .unwrap_or_default();
            let verb = if tool == "Bash" { "run" } else { "use" };
            format!("? {tool} asks to {verb}: {summary}{outside}")
        }
        Entry::Answer {
            outcome, message, ..
        } => {
            let mark = match outcome {
                ApprovalOutcome::Allowed
                | ApprovalOutcome::AllowedAlways
                | ApprovalOutcome::AllowedByRule => "✓",
                _ => "✗",
            };
            match message.as_deref().filter(|m| !m.is_empty()) {
                Some(message) => format!("  {mark} {}: {message}", outcome.as_str()),
                None => format!("  {mark} {}", outcome.as_str()),
            }
        }
        Entry::Message { text } => format!("» You: {text}"),
        Entry::Plain { text } => text.clone(),
    }
}

/// `1 tool refused`, `2 tools refused`: calls the permission mode did not allow.
pub fn denied_text(count: u64) -> String {
    format!("{count} tool{} refused", if count == 1 { "" } else { "s" })
}

fn render_result(r: &ResultSummary) -> String {
    let mut facts = Vec::new();
    if let Some(ms) = r.duration_ms {
        facts.push(format!("{:.1}s", ms as f64 / 1000.0));
    }
    if let Some(turns) = r.num_turns {
        facts.push(format!("{turns} turn{}", if turns == 1 { "" } else { "s" }));
    }
    if let Some(cost) = r.cost_usd {
        facts.push(format!("${cost:.4}"));
    }
    if r.denied_tools > 0 {
        facts.push(denied_text(r.denied_tools));
    }
    let facts = if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    };
    if r.is_error {
        format!("✗ error{facts}: {}", r.text)
    } else {
        format!("✓ done{facts}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &str =
        r#"{"type":"system","subtype":"init","cwd":"/p","session_id":"s-1","model":"m"}"#;
    const TOOL: &str = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls -la\nmore"}}]}}"#;
    const TOOL_RESULT: &str = r#"{"type":"user","message":{"content":[{"tool_use_id":"t1","type":"tool_result","content":"a\nb\nc","is_error":false}]}}"#;
    const RESULT: &str = r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":2500,"num_turns":2,"result":"API Error: 500","session_id":"s-1","total_cost_usd":0.01}"#;

    #[test]
    fn parses_each_kind_of_event() {
        assert_eq!(session_of_init(INIT).as_deref(), Some("s-1"));
        let entries = parse_line(TOOL);
        assert_eq!(entries.len(), 2);
        assert_eq!(render(&entries[0]), "Let me look.");
        assert_eq!(render(&entries[1]), "→ Bash: ls -la");
        assert_eq!(render(&parse_line(TOOL_RESULT)[0]), "  ← a (+2 lines)");
        let result = result_of(RESULT).expect("a result line");
        assert!(result.is_error, "is_error wins over subtype success");
        assert_eq!(result.cost_usd, Some(0.01));
        assert_eq!(
            render(&Entry::Result(result)),
            "✗ error (2.5s, 2 turns, $0.0100): API Error: 500"
        );
        assert!(result_of(TOOL).is_none());
    }

    /// Lines as Claude Code 2.1.332 writes them (tests/real-cli/FINDINGS.md).
    #[test]
    fn real_cli_retries_and_lost_sessions_read_well() {
        let retry = r#"{"type":"system","subtype":"api_retry","attempt":1,"max_retries":2,"retry_delay_ms":552,"error_status":529,"error":"overloaded","session_id":"s","uuid":"u"}"#;
        assert_eq!(
            render(&parse_line(retry)[0]),
            "· API error 529 (overloaded), retry 1 of 2 in 0.6s"
        );
        let refused = r#"{"permission_denials":[{"tool_name":"Bash","tool_use_id":"t","tool_input":{"command":"echo x > denied.txt"}}],"is_error":false,"num_turns":2,"subtype":"success","result":"I could not write it.","type":"result"}"#;
        let result = result_of(refused).expect("a result line");
        assert_eq!(result.denied_tools, 1);
        assert_eq!(
            render(&Entry::Result(result)),
            "✓ done (2 turns, 1 tool refused)"
        );
        let synthetic = r#"{"type":"assistant","message":{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 529 overloaded"}]},"error":"server_error","is_api_error_message":true,"api_error_status":529}"#;
        assert!(
            parse_line(synthetic).is_empty(),
            "the result line says it, once"
        );
        let lost = r#"{"type":"result","subtype":"error_during_execution","duration_ms":0,"is_error":true,"num_turns":0,"session_id":"f5","total_cost_usd":0,"errors":["No conversation found with session ID: f5"],"result_index":0}"#;
        let result = result_of(lost).expect("a result line");
        assert!(result.is_error);
        assert_eq!(result.text, "No conversation found with session ID: f5");
    }

    #[test]
    fn the_conversation_reads_well() {
        let request = r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"echo made > made.txt"},"blocked_path":"/p/made.txt"}}"#;
        assert_eq!(
            render(&parse_line(request)[0]),
            "? Bash asks to run: echo made > made.txt (touches /p/made.txt)"
        );
        let approval = match protocol::from_agent(request) {
            Some(FromAgent::CanUseTool(a)) => a,
            other => panic!("a request, got {other:?}"),
        };
        let answer = protocol::note::answer(&approval, ApprovalOutcome::Denied, Some("not now"));
        assert_eq!(render(&parse_line(&answer)[0]), "  ✗ denied: not now");
        let allowed = protocol::note::answer(&approval, ApprovalOutcome::AllowedByRule, None);
        assert_eq!(
            render(&parse_line(&allowed)[0]),
            "  ✓ allowed by an earlier \"always\""
        );
        let message = protocol::note::message("use tabs");
        assert_eq!(render(&parse_line(&message)[0]), "» You: use tabs");
        assert_eq!(
            render(&parse_line(&protocol::note::interrupt())[0]),
            "· You stopped the turn"
        );
        // The answer to Tasktray's initialize is 18 KB of capabilities: not shown.
        assert!(parse_line(r#"{"type":"control_response","response":{"subtype":"success","request_id":"tasktray-initialize","response":{}}}"#).is_empty());
    }

    #[test]
    fn non_json_and_broken_json_stay_plain() {
        assert_eq!(
            parse_line("hello"),
            vec![Entry::Plain {
                text: "hello".into()
            }]
        );
        assert_eq!(
            parse_line("{not json"),
            vec![Entry::Plain {
                text: "{not json".into()
            }]
        );
        // A nested "type":"result" inside another event is not a result.
        let nested = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"x","name":"Y","input":{"type":"result"}}]}}"#;
        assert!(result_of(nested).is_none());
    }
}
