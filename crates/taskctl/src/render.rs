//! How tasks and their output look in a terminal.

use supervisor::{procfs, transcript, OutputFormat, TaskRecord, TaskStatus};

/// A one-character mark per status.
pub fn mark(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "…",
        TaskStatus::Running => "▶",
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
    if task.status.is_active() && owner_gone {
        TaskStatus::Interrupted
    } else {
        task.status
    }
}

/// The readable lines for one output line: transcript entries for stream-json, the line
/// itself otherwise.
pub fn output_line(format: OutputFormat, text: &str) -> Vec<String> {
    match format {
        OutputFormat::Text => vec![text.to_owned()],
        OutputFormat::StreamJson => transcript::parse_line(text)
            .iter()
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
            .error
            .clone()
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
