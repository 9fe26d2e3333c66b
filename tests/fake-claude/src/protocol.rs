//! The control lines of the two-way protocol that fake-claude writes: answers to the host's
//! control requests, and its own requests (`can_use_tool`, the `bad-control` probes).

use std::io;

use serde_json::Value;

use crate::emit::{write_line, Session, VERSION};
use crate::json::{array, Obj};

/// The request id of the unknown control request `bad-control` sends.
pub(crate) const BAD_CONTROL_ID: &str = "fake-bad-1";

/// A `success` control response carrying `response`.
pub(crate) fn success(request_id: &str, response: Obj) -> io::Result<()> {
    let inner = Obj::new()
        .field("subtype", "success")
        .field("request_id", request_id)
        .obj("response", response);
    write_line(
        &Obj::new()
            .field("type", "control_response")
            .obj("response", inner)
            .build(),
    )
}

/// The `error` control response to a request of an unknown subtype (`None`: none given).
pub(crate) fn unsupported(request_id: &str, subtype: Option<&str>) -> io::Result<()> {
    let subtype = subtype.unwrap_or("undefined");
    let inner = Obj::new()
        .field("subtype", "error")
        .field("request_id", request_id)
        .field(
            "error",
            format!("Unsupported control request subtype: {subtype}"),
        )
        .field("error_code", "unsupported_request");
    write_line(
        &Obj::new()
            .field("type", "control_response")
            .obj("response", inner)
            .build(),
    )
}

/// The answer to `initialize`: the real CLI's keys, in its order, with few entries.
pub(crate) fn initialized(request_id: &str, session: &Session, busy: bool) -> io::Result<()> {
    let command = Obj::new()
        .field("name", "compact")
        .field(
            "description",
            "Free up context by summarizing the conversation so far",
        )
        .field(
            "argumentHint",
            "<optional custom summarization instructions>",
        )
        .field("builtin", true);
    let agent = Obj::new()
        .field("name", "general-purpose")
        .field("description", "General-purpose agent for multi-step tasks.");
    let model = Obj::new()
        .field("value", "default")
        .field("resolvedModel", "claude-fake")
        .field("displayName", "Default (recommended)")
        .field("description", "The fake model")
        .field("supportsEffort", false);
    let account = Obj::new()
        .field("tokenSource", "none")
        .field("apiKeySource", "none")
        .field("apiProvider", "firstParty");
    let response = Obj::new()
        .raw("commands", &array(vec![command]))
        .raw("agents", &array(vec![agent]))
        .field("output_style", "default")
        .field("available_output_styles", vec!["default"])
        .raw("models", &array(vec![model]))
        .obj("account", account)
        .field("pid", std::process::id())
        .field("claude_code_version", VERSION)
        .field("current_permission_mode", session.permission_mode())
        .field("analytics_disabled", true)
        .field("sandbox_enabled", false)
        .field("fast_mode_state", "off")
        .field("session_state", if busy { "running" } else { "idle" })
        .field("capabilities", Vec::<Value>::new());
    let inner = Obj::new()
        .field("subtype", "success")
        .field("request_id", request_id)
        .obj("response", response)
        .field("pending_permission_requests", Vec::<Value>::new())
        .field("pending_user_dialog_requests", Vec::<Value>::new());
    write_line(
        &Obj::new()
            .field("type", "control_response")
            .obj("response", inner)
            .build(),
    )
}

/// What a `can_use_tool` request says besides the tool and its input.
#[derive(Debug, Default)]
pub(crate) struct Question {
    pub(crate) description: String,
    /// The `permission_suggestions` entries.
    pub(crate) suggestions: Vec<Obj>,
    pub(crate) blocked_path: Option<String>,
    /// `decision_reason` and `decision_reason_type`.
    pub(crate) reason: Option<(String, String)>,
}

/// Asks the host whether tool `name` may run with `input`.
pub(crate) fn can_use_tool(
    request_id: &str,
    name: &str,
    input: &str,
    question: Question,
    tool_use_id: &str,
) -> io::Result<()> {
    let mut request = Obj::new()
        .field("subtype", "can_use_tool")
        .field("tool_name", name)
        .field("display_name", name)
        .raw("input", input)
        .field("description", question.description)
        .raw("permission_suggestions", &array(question.suggestions));
    if let Some(path) = question.blocked_path {
        request = request.field("blocked_path", path);
    }
    if let Some((reason, kind)) = question.reason {
        request = request
            .field("decision_reason", reason)
            .field("decision_reason_type", kind);
    }
    let request = request.field("tool_use_id", tool_use_id);
    let line = Obj::new()
        .field("type", "control_request")
        .field("request_id", request_id)
        .obj("request", request)
        .build();
    write_line(&line)
}

/// The two probes of `bad-control`: an unknown subtype, then a request without id or body.
pub(crate) fn bad_requests() -> io::Result<()> {
    let request = Obj::new().field("subtype", "no_such_thing");
    let line = Obj::new()
        .field("type", "control_request")
        .field("request_id", BAD_CONTROL_ID)
        .obj("request", request)
        .build();
    write_line(&line)?;
    write_line(&Obj::new().field("type", "control_request").build())
}

/// A host's answer to `can_use_tool`, read from its `response` object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// `behavior: allow`, with `updatedInput` if given.
    Allow(Option<Value>),
    /// `behavior: deny` with its message; `interrupt: true` also ends the turn.
    Deny { message: String, interrupt: bool },
    /// An `error` response, or a success without a usable behaviour: a refusal with this text.
    Failed(String),
}

/// The refusal of a permission request still open when stdin closes (the real CLI's words).
pub(crate) const STREAM_CLOSED: &str = "Tool permission request failed: AbortError: Tool \
    permission stream closed before response received";

/// Reads a `can_use_tool` answer.
pub(crate) fn answer(response: &Value) -> Answer {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if response["subtype"] == "error" {
        let error = text(&response["error"]);
        return Answer::Failed(format!("Tool permission request failed: Error: {error}"));
    }
    let body = &response["response"];
    match body["behavior"].as_str() {
        Some("allow") => Answer::Allow(body.get("updatedInput").filter(|v| v.is_object()).cloned()),
        Some("deny") => Answer::Deny {
            message: text(&body["message"]),
            interrupt: body["interrupt"] == true,
        },
        _ => Answer::Failed(format!(
            "Tool permission request failed: Error: not a permission answer: {body}"
        )),
    }
}

/// Answers an interrupt request (the turn, if any, is stopped).
pub(crate) fn interrupt_done(request_id: &str) -> io::Result<()> {
    success(
        request_id,
        Obj::new().field("still_queued", Vec::<Value>::new()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers() {
        let allow = json!({"subtype": "success", "response": {"behavior": "allow"}});
        assert_eq!(answer(&allow), Answer::Allow(None));
        let input = json!({"command": "ls"});
        let allow =
            json!({"subtype": "success", "response": {"behavior": "allow", "updatedInput": input}});
        assert_eq!(answer(&allow), Answer::Allow(Some(input)));
        let deny = json!({"subtype": "success", "response": {"behavior": "deny", "message": "no"}});
        let no = |interrupt| Answer::Deny {
            message: "no".into(),
            interrupt,
        };
        assert_eq!(answer(&deny), no(false));
        let stop = json!({"subtype": "success",
            "response": {"behavior": "deny", "message": "no", "interrupt": true}});
        assert_eq!(answer(&stop), no(true));
        let error = json!({"subtype": "error", "error": "broken"});
        assert_eq!(
            answer(&error),
            Answer::Failed("Tool permission request failed: Error: broken".into())
        );
    }
}
