//! The transcript file a finished task leaves in its project:
//! `<project>/.claude-tasks/task-<id>-output.md`, with the task's facts and its whole output
//! (for stream-json, the readable transcript rather than raw JSON).

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::history::{write_atomic, History};
use crate::model::{OutputFormat, TaskRecord};
use crate::transcript;

/// The transcript path of a task.
pub fn transcript_path(task: &TaskRecord) -> PathBuf {
    task.project_dir
        .join(".claude-tasks")
        .join(format!("task-{}-output.md", task.id))
}

/// Writes the transcript file; returns its path.
pub fn write(history: &History, task: &TaskRecord) -> Result<PathBuf> {
    let path = transcript_path(task);
    let dir = path.parent().unwrap_or(&task.project_dir);
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the transcript folder", dir, e))?;
    let log = history.read_log(task.id)?;
    write_atomic(&path, render(task, &log).as_bytes())?;
    Ok(path)
}

/// The transcript's Markdown.
pub fn render(task: &TaskRecord, log: &str) -> String {
    let mut out = format!("# Task {}: {}\n\n", task.id, task.name);
    out.push_str(&format!("**Status:** {}\n", task.status));
    out.push_str(&format!("**Project:** {}\n", task.project_dir.display()));
    out.push_str(&format!("**Created:** {}\n", timestamp(task.created_at_ms)));
    if task.finished_at_ms.is_some() {
        let seconds = task.duration_ms(0) as f64 / 1000.0;
        out.push_str(&format!("**Duration:** {seconds:.1}s\n"));
    }
    if let Some(exit) = task.exit {
        out.push_str(&format!("**Exit:** {exit}\n"));
    }
    if let Some(result) = &task.result {
        if let Some(cost) = result.cost_usd {
            out.push_str(&format!("**Cost:** ${cost:.4}\n"));
        }
        if let Some(turns) = result.num_turns {
            out.push_str(&format!("**Turns:** {turns}\n"));
        }
    }
    if let Some(session) = &task.session_id {
        out.push_str(&format!("**Session:** {session}\n"));
    }
    if let Some(error) = &task.error {
        out.push_str(&format!("**Error:** {error}\n"));
    }
    out.push_str("\n## Prompt\n\n");
    push_fenced(&mut out, &task.prompt);
    out.push_str("\n## Output\n\n");
    let body = match task.options.format {
        OutputFormat::Text => log.trim_end_matches('\n').to_owned(),
        OutputFormat::StreamJson => log
            .lines()
            .flat_map(transcript::parse_line)
            .map(|entry| transcript::render(&entry))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    push_fenced(&mut out, &body);
    out
}

/// A fenced block whose fence is longer than any run of backticks inside, so output that
/// contains Markdown fences cannot end the block early.
fn push_fenced(out: &mut String, body: &str) {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    out.push_str(&fence);
    out.push('\n');
    out.push_str(body);
    if !body.is_empty() {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
}

/// An RFC 3339 UTC timestamp, e.g. `2026-11-25T23:40:01Z`.
pub fn timestamp(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_survive_backticks_in_the_output() {
        let mut out = String::new();
        push_fenced(&mut out, "before\n```\ninside\n```");
        assert!(out.starts_with("````\n"), "{out}");
        assert!(out.ends_with("\n````\n"), "{out}");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
