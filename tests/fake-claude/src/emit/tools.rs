//! Tool lines: the assistant's `tool_use`, the `user` line with its `tool_result`, and the
//! refusals (`system`/`permission_denied`, `permission_denials`).

use std::io;
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::{lock, write_line, Session};
use crate::json::{array, Obj};
use crate::procs::ToolOutput;

/// How a tool call's permission was settled: its `permission_decision` (in the
/// `tool_result_meta` of its result) as the real CLI reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decided {
    pub(crate) accept: bool,
    pub(crate) source: &'static str,
    pub(crate) reason_type: Option<&'static str>,
    /// `non_execution_kind` of a refusal.
    pub(crate) kind: Option<&'static str>,
    /// A refusal announced by a `system`/`permission_denied` line (not made by the host).
    pub(crate) announced: bool,
}

impl Decided {
    const fn accept(source: &'static str, reason_type: Option<&'static str>) -> Self {
        Self {
            accept: true,
            source,
            reason_type,
            kind: None,
            announced: false,
        }
    }

    const fn reject(
        reason_type: Option<&'static str>,
        kind: &'static str,
        announced: bool,
    ) -> Self {
        Self {
            accept: false,
            source: "config",
            reason_type,
            kind: Some(kind),
            announced,
        }
    }

    /// Allowed by the permission mode (`bypassPermissions`, `auto`).
    pub(crate) const MODE: Self = Self::accept("config", Some("mode"));
    /// Allowed by an `--allowedTools` rule.
    pub(crate) const RULE: Self = Self::accept("config", Some("rule"));
    /// Allowed command by command: read-only, or file commands in `acceptEdits`.
    pub(crate) const SUBCOMMANDS: Self = Self::accept("config", Some("subcommandResults"));
    /// The host allowed it.
    pub(crate) const HOST: Self = Self::accept("user_temporary", None);
    /// The host refused it.
    pub(crate) const HOST_DENIED: Self = Self {
        accept: false,
        source: "user_reject",
        reason_type: None,
        kind: Some("permission-rule"),
        announced: false,
    };
    /// The host's answer failed (an error response, or stdin closed before it).
    pub(crate) const FAILED: Self = Self::reject(Some("other"), "permission-rule", false);
    /// Nobody to ask (one-way mode, or no `--permission-prompt-tool stdio`).
    pub(crate) const NOBODY: Self = Self::reject(None, "user-rejected", true);
    /// Refused by the mode (`dontAsk`).
    pub(crate) const MODE_DENIED: Self = Self::reject(Some("mode"), "permission-rule", true);
    /// Refused for want of the auto-mode classifier (`auto`, `plan`).
    pub(crate) const CLASSIFIER: Self =
        Self::reject(Some("classifier"), "automode-unavailable", true);
    /// Refused by a `--disallowedTools` rule.
    pub(crate) const DENY_RULE: Self = Self::reject(Some("rule"), "permission-rule", true);

    fn meta(decided: Option<Self>, id: &str) -> Option<String> {
        let decided = decided?;
        let mut decision = Obj::new()
            .field("decision", if decided.accept { "accept" } else { "reject" })
            .field("source", decided.source);
        if let Some(reason) = decided.reason_type {
            decision = decision.field("reason_type", reason);
        }
        let mut meta = Obj::new().field("id", id);
        if let Some(kind) = decided.kind {
            meta = meta.field("non_execution_kind", kind);
        }
        Some(array(vec![meta.obj("permission_decision", decision)]))
    }
}

impl Session {
    /// A Bash tool call (stream-json only); returns the tool-use id for its result.
    pub(crate) fn tool_use(&self, command: &str) -> io::Result<String> {
        let input = Obj::new()
            .field("command", command)
            .field("description", format!("Run: {command}"));
        self.tool_use_named("Bash", &input.build())
    }

    /// A call of tool `name` with `input` (JSON text; stream-json only); returns the tool-use
    /// id.
    pub(crate) fn tool_use_named(&self, name: &str, input: &str) -> io::Result<String> {
        self.turns.fetch_add(1, Ordering::Relaxed);
        let id = format!("toolu_fake{:06}", self.next_id());
        if self.streaming() {
            let content = Obj::new()
                .field("type", "tool_use")
                .field("id", id.as_str())
                .field("name", name)
                .raw("input", input);
            self.assistant(content, 20)?;
        }
        Ok(id)
    }

    /// The result of a Bash tool call (stream-json only), as a `user` line.
    pub(crate) fn tool_result(&self, id: &str, out: &ToolOutput) -> io::Result<()> {
        self.bash_result(id, out, out.content(), None)
    }

    /// [`Session::tool_result`] with the given content and permission meta.
    pub(crate) fn bash_result(
        &self,
        id: &str,
        out: &ToolOutput,
        content: String,
        decided: Option<Decided>,
    ) -> io::Result<()> {
        let result = Obj::new()
            .field("stdout", out.stdout.as_str())
            .field("stderr", out.stderr.as_str())
            .field("interrupted", false)
            .field("isImage", false);
        let result = match decided {
            None => result,
            Some(_) => result.field("noOutputExpected", false),
        };
        self.result_of(id, &content, !out.success, &result.build(), decided)
    }

    /// A tool result: `content` for the model, `tool_use_result` (JSON text) for the host.
    pub(crate) fn result_of(
        &self,
        id: &str,
        content: &str,
        is_error: bool,
        tool_use_result: &str,
        decided: Option<Decided>,
    ) -> io::Result<()> {
        if !self.streaming() {
            return Ok(());
        }
        let content = Obj::new()
            .field("tool_use_id", id)
            .field("type", "tool_result")
            .field("content", content)
            .field("is_error", is_error);
        let mut line = self
            .user_line(vec![content])
            .raw("tool_use_result", tool_use_result);
        if let Some(meta) = Decided::meta(decided, id) {
            line = line.raw("tool_result_meta", &meta);
        }
        write_line(&line.build())
    }

    /// Counts a refusal in the result's `permission_denials` without writing anything (a host
    /// denial with `interrupt`, whose lines are the interrupt's).
    pub(crate) fn count_denial(&self, tool: &str, id: &str, input: &str) {
        let denial = Obj::new()
            .field("tool_name", tool)
            .field("tool_use_id", id)
            .raw("tool_input", input)
            .build();
        lock(&self.denials).push(denial);
    }

    /// A refused tool call: the error `tool_result` with `message`, counted in the result's
    /// `permission_denials`; a refusal the host did not make is announced with a
    /// `system`/`permission_denied` line first, as the real CLI does.
    pub(crate) fn denied(
        &self,
        tool: &str,
        id: &str,
        input: &str,
        message: &str,
        decided: Decided,
    ) -> io::Result<()> {
        self.count_denial(tool, id, input);
        if !self.streaming() {
            return Ok(());
        }
        if decided.announced {
            let mut line = Obj::new()
                .field("type", "system")
                .field("subtype", "permission_denied")
                .field("tool_name", tool)
                .field("tool_use_id", id);
            if let Some(reason) = decided.reason_type {
                line = line.field("decision_reason_type", reason);
            }
            let line = line
                .field("message", message)
                .field("uuid", self.line_uuid())
                .field("session_id", self.session_id.as_str())
                .build();
            write_line(&line)?;
        }
        let tool_use_result = Value::from(format!("Error: {message}")).to_string();
        self.result_of(id, message, true, &tool_use_result, Some(decided))
    }
}

/// The tool result of a call stopped by an interrupt (the real CLI's words).
const REJECTED: &str = "The user doesn't want to proceed with this tool use. The tool use was \
    rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what \
    you are doing and wait for the user to tell you how to proceed.";
/// Added when the stopped call was already running.
const STOPPED_WHILE_RUNNING: &str = " Correction to the text above: this call was stopped while \
    running, not refused before it ran. It may have run in part or in full, and its changes may \
    have been written. No permission prompt was involved. Work it started elsewhere (a remote \
    command, a background process) may still be running, so check before starting the same work \
    again. The instruction to stop and wait still stands.";

impl Session {
    /// After an interrupt: the stopped tool's error result (if a tool call was cut short;
    /// `running` if it had started), then the `[Request interrupted by user...]` user line.
    pub(crate) fn interrupted_lines(&self, tool: Option<(&str, bool)>) -> io::Result<()> {
        if !self.streaming() {
            return Ok(());
        }
        if let Some((id, running)) = tool {
            let mut text = REJECTED.to_owned();
            if running {
                text.push_str(STOPPED_WHILE_RUNNING);
            }
            let content = Obj::new()
                .field("type", "tool_result")
                .field("content", text.as_str())
                .field("is_error", true)
                .field("tool_use_id", id);
            let line = self
                .user_line(vec![content])
                .field("tool_use_result", "User rejected tool use")
                .raw(
                    "tool_result_meta",
                    &array(vec![Obj::new()
                        .field("id", id)
                        .field("non_execution_kind", "user-rejected")]),
                )
                .build();
            write_line(&line)?;
        }
        let marker = if tool.is_some() {
            "[Request interrupted by user for tool use]"
        } else {
            "[Request interrupted by user]"
        };
        let text = Obj::new().field("type", "text").field("text", marker);
        write_line(&self.user_line(vec![text]).build())
    }

    /// A `user` line carrying these content blocks, as the real CLI frames tool results and
    /// interrupt notes; callers add their own fields after these.
    fn user_line(&self, blocks: Vec<Obj>) -> Obj {
        let message = Obj::new()
            .field("role", "user")
            .raw("content", &array(blocks));
        Obj::new()
            .field("type", "user")
            .obj("message", message)
            .field("parent_tool_use_id", Value::Null)
            .field("session_id", self.session_id.as_str())
            .field("uuid", self.line_uuid())
    }

    /// With `--replay-user-messages`: a user message from stdin echoed once it is taken.
    pub(crate) fn replay(&self, content: &Value) -> io::Result<()> {
        let message = Obj::new()
            .field("role", "user")
            .field("content", content.clone());
        let line = Obj::new()
            .field("type", "user")
            .obj("message", message)
            .field("session_id", self.session_id.as_str())
            .field("parent_tool_use_id", Value::Null)
            .field("uuid", self.line_uuid())
            .field("isReplay", true)
            .build();
        write_line(&line)
    }
}
