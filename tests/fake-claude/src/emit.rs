//! The session's output: the stream-json lines and the final result, in the shapes the real CLI
//! writes.
//!
//! Every line is written and flushed under the stdout lock, so the signal thread's abort result
//! and the stdin thread's control responses never land inside another line. Once a turn's result
//! is out, no second one is written for that turn.

mod tools;

pub(crate) use tools::Decided;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::args::{Args, OutputFormat};
use crate::ids::uuid;
use crate::json::{array, Obj};

/// The version the fake claims to be (the real CLI this crate was modelled on).
pub(crate) const VERSION: &str = "2.1.332";
/// The model reported when `--model` is not given.
const DEFAULT_MODEL: &str = "claude-fake";
/// What a run "costs"; any plausible non-zero number does.
const TOTAL_COST_USD: f64 = 0.0123;
/// The result text after SIGINT.
pub(crate) const ABORTED: &str = "Request was aborted.";

/// What a result line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// An error with subtype `"success"`, as the real CLI reports API errors.
    Error,
    /// An error with subtype `"error_during_execution"`.
    ErrorDuringExecution,
}

impl Outcome {
    pub(crate) fn is_error(self) -> bool {
        self != Outcome::Success
    }

    fn subtype(self) -> &'static str {
        match self {
            Outcome::Success | Outcome::Error => "success",
            Outcome::ErrorDuringExecution => "error_during_execution",
        }
    }
}

/// One agent session: ids, counters and the chosen output format. In two-way mode one session
/// runs several turns (user messages), each ended by its own result.
#[derive(Debug)]
pub(crate) struct Session {
    format: OutputFormat,
    session_id: String,
    model: String,
    permission_mode: String,
    cwd: String,
    /// When the current turn started.
    started: Mutex<Instant>,
    /// Seeds the line uuids, so they differ between runs that share a session id.
    seed: u64,
    /// 1 + the number of tool calls in this turn.
    turns: AtomicU64,
    output_tokens: AtomicU64,
    /// Numbers the message, tool and line ids.
    next_id: AtomicU64,
    /// Set once this turn's result (or the abort result) is written; checked under the stdout
    /// lock.
    finished: AtomicBool,
    /// Results written so far (`result_index` of the next one).
    results: AtomicU64,
    /// This turn's `permission_denials` entries, as JSON text.
    denials: Mutex<Vec<String>>,
}

impl Session {
    pub(crate) fn new(args: &Args, cwd: String) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ u64::from(std::process::id()).rotate_left(32);
        Self {
            format: args.format,
            session_id: args.resume.clone().unwrap_or_else(|| uuid(seed, 0)),
            model: args
                .model
                .clone()
                .unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
            permission_mode: args.permission_mode.clone(),
            cwd,
            started: Mutex::new(Instant::now()),
            seed,
            turns: AtomicU64::new(1),
            output_tokens: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            finished: AtomicBool::new(false),
            results: AtomicU64::new(0),
            denials: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn permission_mode(&self) -> &str {
        &self.permission_mode
    }

    /// Starts a turn: its counters, clock and denials start afresh, and it may end with a result.
    pub(crate) fn begin_turn(&self) {
        *lock(&self.started) = Instant::now();
        self.turns.store(1, Ordering::Relaxed);
        self.output_tokens.store(0, Ordering::Relaxed);
        lock(&self.denials).clear();
        self.finished.store(false, Ordering::SeqCst);
    }

    /// Between turns (two-way mode): SIGINT then writes no result.
    pub(crate) fn set_idle(&self) {
        self.finished.store(true, Ordering::SeqCst);
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn line_uuid(&self) -> String {
        uuid(self.seed, self.next_id())
    }

    fn streaming(&self) -> bool {
        self.format == OutputFormat::StreamJson
    }

    /// The `system`/`init` line (stream-json only).
    pub(crate) fn init(&self) -> io::Result<()> {
        if !self.streaming() {
            return Ok(());
        }
        let line = Obj::new()
            .field("type", "system")
            .field("subtype", "init")
            .field("cwd", self.cwd.as_str())
            .field("session_id", self.session_id.as_str())
            .field("tools", vec!["Bash", "Edit", "Read", "Write"])
            .field("mcp_servers", Vec::<Value>::new())
            .field("model", self.model.as_str())
            .field("permissionMode", self.permission_mode.as_str())
            .field("apiKeySource", "none")
            .field("claude_code_version", VERSION)
            .field("output_style", "default")
            .field("uuid", self.line_uuid())
            .build();
        write_line(&line)
    }

    /// An assistant text message (stream-json only).
    pub(crate) fn assistant_text(&self, text: &str) -> io::Result<()> {
        let tokens = token_count(text);
        self.output_tokens.fetch_add(tokens, Ordering::Relaxed);
        if !self.streaming() {
            return Ok(());
        }
        let content = Obj::new().field("type", "text").field("text", text);
        self.assistant(content, tokens)
    }

    fn assistant(&self, content: Obj, output_tokens: u64) -> io::Result<()> {
        let usage = Obj::new()
            .field("input_tokens", 10)
            .field("output_tokens", output_tokens);
        let message = Obj::new()
            .field("id", format!("msg_fake{:06}", self.next_id()))
            .field("type", "message")
            .field("role", "assistant")
            .field("model", self.model.as_str())
            .raw("content", &array(vec![content]))
            .field("stop_reason", Value::Null)
            .field("stop_sequence", Value::Null)
            .obj("usage", usage);
        let line = Obj::new()
            .field("type", "assistant")
            .obj("message", message)
            .field("parent_tool_use_id", Value::Null)
            .field("session_id", self.session_id.as_str())
            .field("uuid", self.line_uuid())
            .build();
        write_line(&line)
    }

    /// The turn's result in the chosen format. Does nothing if its result is already out.
    pub(crate) fn finish(&self, outcome: Outcome, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.finished.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let line = match self.format {
            OutputFormat::Text => text.to_owned(),
            OutputFormat::Json | OutputFormat::StreamJson => {
                self.result_line(outcome, Ending::Answer(text))
            }
        };
        out.write_all(format!("{line}\n").as_bytes())?;
        out.flush()
    }

    /// The result of a turn stopped by an interrupt, as the real CLI writes it: subtype
    /// `error_during_execution`, no `result` but `errors`. `during_tool`: a tool call was cut
    /// short.
    pub(crate) fn finish_interrupted(&self, during_tool: bool) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.finished.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let line = match self.format {
            OutputFormat::Text => ABORTED.to_owned(),
            OutputFormat::Json | OutputFormat::StreamJson => self.result_line(
                Outcome::ErrorDuringExecution,
                Ending::Interrupted { during_tool },
            ),
        };
        out.write_all(format!("{line}\n").as_bytes())?;
        out.flush()
    }

    /// A fresh id for a control request of ours.
    pub(crate) fn request_id(&self) -> String {
        self.line_uuid()
    }

    /// Called on SIGINT: writes the abort result (unless a result is out) and exits 0, holding
    /// the stdout lock so nothing follows it.
    pub(crate) fn abort(&self) -> ! {
        let mut out = io::stdout().lock();
        if !self.finished.swap(true, Ordering::SeqCst) {
            let line = match self.format {
                OutputFormat::Text => ABORTED.to_owned(),
                _ => self.result_line(Outcome::Error, Ending::Answer(ABORTED)),
            };
            let _ = out.write_all(format!("{line}\n").as_bytes());
            let _ = out.flush();
        }
        std::process::exit(0)
    }

    fn result_line(&self, outcome: Outcome, ending: Ending<'_>) -> String {
        let text = match ending {
            Ending::Answer(text) => text,
            Ending::Interrupted { .. } => "",
        };
        let elapsed_ms = lock(&self.started).elapsed().as_millis() as u64;
        let index = self.results.fetch_add(1, Ordering::SeqCst);
        let denials = format!("[{}]", lock(&self.denials).join(","));
        let turns = self.turns.load(Ordering::Relaxed);
        let usage = Obj::new()
            .field("input_tokens", 10 * turns)
            .field("cache_creation_input_tokens", 0)
            .field("cache_read_input_tokens", 0)
            .field(
                "output_tokens",
                self.output_tokens.load(Ordering::Relaxed) + token_count(text),
            );
        let (stop_reason, terminal_reason) = match ending {
            Ending::Answer(_) => (Value::from("end_turn"), "completed"),
            Ending::Interrupted { during_tool: true } => (Value::from("tool_use"), "aborted_tools"),
            Ending::Interrupted { during_tool: false } => (Value::Null, "aborted_streaming"),
        };
        // The key order of Claude Code 2.1.332, where "type" comes late: a reader must parse
        // the line, not match its start.
        let line = Obj::new()
            .field("duration_api_ms", elapsed_ms / 2)
            .field("stop_reason", stop_reason.clone())
            .field("session_id", self.session_id.as_str())
            // The session's running total, as the real CLI reports it.
            .field("total_cost_usd", TOTAL_COST_USD * (index + 1) as f64)
            .obj("usage", usage)
            .raw("permission_denials", &denials)
            .field("terminal_reason", terminal_reason)
            .field("is_error", outcome.is_error())
            .field("num_turns", turns)
            .field("subtype", outcome.subtype());
        let line = match ending {
            Ending::Answer(text) => line.field("result", text),
            Ending::Interrupted { .. } => {
                let stop = stop_reason.as_str().unwrap_or("null");
                let diagnostic = format!(
                    "[ede_diagnostic] result_type=user last_content_type=n/a stop_reason={stop}"
                );
                line.field("errors", vec![diagnostic])
            }
        };
        line.field("type", "result")
            .field("duration_ms", elapsed_ms)
            .field("uuid", self.line_uuid())
            .field("queued_turn_count", 0)
            .field("result_index", index)
            .build()
    }
}

/// What a result line reports.
#[derive(Debug, Clone, Copy)]
enum Ending<'a> {
    /// The final answer (`result`).
    Answer(&'a str),
    /// Stopped by an interrupt: no `result`, an `errors` list.
    Interrupted { during_tool: bool },
}

/// Locks a mutex, whether or not another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes one line and flushes it, so it reaches a pipe at once.
pub(crate) fn write_line(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(format!("{line}\n").as_bytes())?;
    out.flush()
}

/// A rough token count: four bytes a token.
fn token_count(text: &str) -> u64 {
    text.len() as u64 / 4 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_shape() {
        let args = Args {
            resume: Some("sess-1".to_owned()),
            format: OutputFormat::StreamJson,
            ..Args::default()
        };
        let session = Session::new(&args, "/tmp".to_owned());
        let line = session.result_line(Outcome::Error, Ending::Answer("boom"));
        assert!(
            line.starts_with(r#"{"duration_api_ms":"#),
            "the real CLI's key order"
        );
        let v: Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["type"], "result");
        assert_eq!(v["is_error"], true);
        assert_eq!(v["subtype"], "success");
        assert_eq!(v["result"], "boom");
        assert_eq!(v["session_id"], "sess-1");
        assert_eq!(v["num_turns"], 1);
    }
}
