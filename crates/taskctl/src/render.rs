//! How tasks and their output look in a terminal.

use serde_json::Value;
use supervisor::{
    procfs, text, transcript, Approval, OutputFormat, TaskId, TaskRecord, TaskStatus,
};

/// Lines of a file's content shown in a question; the rest is counted.
const SHOWN_CONTENT_LINES: usize = 20;

/// A one-character mark per status.
pub fn mark(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "◷",
        TaskStatus::Pending => "…",
        TaskStatus::Running => "▶",
        TaskStatus::Waiting => "?",
        TaskStatus::Completed => "✓",
        TaskStatus::Failed => "✗",
        TaskStatus::Cancelled => "■",
        _ => "!",
    }
}

pub use supervisor::text::duration;

/// The status to show: a task recorded as active whose supervising process is gone was
/// interrupted (the next app start records it so).
pub fn shown_status(task: &TaskRecord) -> TaskStatus {
    let owner_gone = task.owner.is_some_and(|o| !procfs::is_alive(o));
    // A queued task of a host that is gone still waits: the next host starts it.
    if task.status.is_running() && owner_gone {
        TaskStatus::Interrupted
    } else {
        task.status
    }
}

/// The readable lines for one output line: transcript entries for stream-json, the line
/// itself otherwise.
pub fn output_line(format: OutputFormat, text: &str) -> Vec<String> {
    output_line_but(format, text, |_| true)
}

/// As [`output_line`], keeping only the entries `keep` accepts.
pub fn output_line_but(
    format: OutputFormat,
    text: &str,
    keep: impl Fn(&transcript::Entry) -> bool,
) -> Vec<String> {
    match format {
        OutputFormat::Text => vec![text.to_owned()],
        OutputFormat::StreamJson => transcript::parse_line(text)
            .iter()
            .filter(|e| keep(e))
            .map(transcript::render)
            .collect(),
    }
}

/// The last line printed for a finished task.
pub fn summary(task: &TaskRecord, now_ms: u64) -> String {
    let took = duration(task.duration_ms(now_ms));
    let status = shown_status(task);
    let mut line = format!("{} task {} {status} in {took}", mark(status), task.id);
    if let Some(cost) = task.result.as_ref().and_then(|r| r.cost_usd) {
        line.push_str(&format!(" (${cost:.4})"));
    }
    if status == TaskStatus::Failed {
        let reason = task
            .failure
            .clone()
            .or_else(|| task.error.clone())
            .or_else(|| {
                task.result
                    .as_ref()
                    .filter(|r| r.is_error)
                    .map(|r| r.text.clone())
            })
            .or_else(|| task.exit.map(|e| format!("the agent ended with {e}")));
        if let Some(reason) = reason {
            line.push_str(&format!(": {}", reason.trim()));
        }
    }
    line
}

/// A permission request as the terminal shows it: the tool, what it acts on, and the whole
/// input that matters (a file's new content, an edit's old and new text).
pub fn approval(approval: &Approval) -> Vec<String> {
    let mut lines = vec![format!(
        "? task {} asks to use {}: {}",
        approval.task,
        approval.tool,
        approval.summary()
    )];
    let field = |key: &str| approval.input.get(key).and_then(Value::as_str);
    let mut block = |mark: &str, text: &str| {
        let all: Vec<&str> = text.lines().collect();
        for line in all.iter().take(SHOWN_CONTENT_LINES) {
            lines.push(format!("  {mark} {line}"));
        }
        if all.len() > SHOWN_CONTENT_LINES {
            lines.push(format!(
                "  … {} more lines",
                all.len() - SHOWN_CONTENT_LINES
            ));
        }
    };
    if let Some(content) = field("content") {
        block("|", content);
    }
    if let (Some(old), Some(new)) = (field("old_string"), field("new_string")) {
        block("-", old);
        block("+", new);
    }
    if let Some(description) = approval
        .description
        .as_deref()
        .filter(|d| Some(*d) != field("file_path") && !d.is_empty())
    {
        lines.push(format!("  ({description})"));
    }
    if let Some(path) = &approval.blocked_path {
        lines.push(format!("  touches {path}"));
    }
    lines
}

/// What `run` says of a task that was queued: its place, what it waits for, and `then` (how
/// to take it out of the queue).
pub fn queued_note(id: TaskId, place: usize, after: Option<TaskId>, then: &str) -> String {
    let waits_for = match after {
        Some(other) => format!("it starts when task {other} in this folder ends"),
        None => "it starts when fewer tasks run (the limit is in Tasktray's Settings)".to_owned(),
    };
    format!(
        "⏸ task {id} is queued, {} in line: {waits_for}; {then}",
        text::ordinal(place)
    )
}
