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

/// `3.2s`, `4m05s`, `1h02m`.
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    if secs < 60 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(3_240), "3.2s");
        assert_eq!(duration(245_000), "4m05s");
        assert_eq!(duration(3_720_000), "1h02m");
    }
}
