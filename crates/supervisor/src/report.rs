//! The transcript file a finished task leaves in its project:
//! `<project>/.claude-tasks/task-<id>-output.md`, with the task's facts and its whole output
//! (for stream-json, the readable transcript rather than raw JSON).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::history::History;
use crate::model::{OutputFormat, TaskRecord};
use crate::transcript;

/// The transcript path of a task.
pub fn transcript_path(task: &TaskRecord) -> PathBuf {
    task.project_dir
        .join(".claude-tasks")
        .join(format!("task-{}-output.md", task.id))
}

/// Writes the transcript file; returns its path. The log is streamed twice (once to size the
/// code fence, once to write), so memory stays flat however long the output.
pub fn write(history: &History, task: &TaskRecord) -> Result<PathBuf> {
    let path = transcript_path(task);
    let dir = path.parent().unwrap_or(&task.project_dir);
    prepare_folder(dir)?;
    refuse_symlink(&path)?;
    let log = history.log_path(task.id);
    let read_err = |e| Error::io("read", &log, e);

    // A fence longer than any backtick run of the raw log is longer than any in the rendered
    // output too (rendering only copies text out of JSON strings), so one fast byte scan of
    // the log sizes it without parsing anything.
    let longest = longest_backtick_run_in_file(&log).map_err(read_err)?;

    let write_err = |e| Error::io("write", &path, e);
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    let mut out = BufWriter::new(tmp);
    out.write_all(header(task).as_bytes()).map_err(write_err)?;
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}").map_err(write_err)?;
    for_each_body_line(&log, task.options.format, |line| writeln!(out, "{line}"))
        .map_err(write_err)?;
    writeln!(out, "{fence}").map_err(write_err)?;
    let tmp = out.into_inner().map_err(|e| write_err(e.into_error()))?;
    // No fsync: the transcript is derived from the log and can be written again.
    tmp.persist(&path).map_err(|e| write_err(e.error))?;
    Ok(path)
}

/// Creates `.claude-tasks` with a `.gitignore` that keeps transcripts out of commits. A
/// repository cannot redirect the transcript elsewhere: a symbolic link there is refused.
fn prepare_folder(dir: &Path) -> Result<()> {
    refuse_symlink(dir)?;
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create the transcript folder", dir, e)),
    }
    refuse_symlink(dir)?;
    // Only a new file, never through a link: an existing .gitignore is the user's.
    let ignore = dir.join(".gitignore");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&ignore)
    {
        let _ = file.write_all(b"# Tasktray's task transcripts: kept out of commits.\n*\n");
    }
    Ok(())
}

fn refuse_symlink(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::io(
            "write the transcript at",
            path,
            io::Error::other("it is a symbolic link, which Tasktray does not follow"),
        )),
        _ => Ok(()),
    }
}

/// Writes a task's whole output to `out`, streamed from its log (memory stays flat): the
/// readable transcript, as the task view shows it, or with `raw` the agent's own lines.
pub fn write_output(
    history: &History,
    task: &TaskRecord,
    raw: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let log = history.log_path(task.id);
    if raw {
        return match File::open(&log) {
            Ok(mut file) => io::copy(&mut file, out).map(drop),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
    }
    for_each_body_line(&log, task.options.format, |line| writeln!(out, "{line}"))
}

/// Calls `f` with each line of the readable output: the log's lines for text tasks, the
/// rendered transcript entries for stream-json tasks.
fn for_each_body_line(
    log: &Path,
    format: OutputFormat,
    mut f: impl FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    let file = match File::open(log) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let line = crate::text::lossy(&buf);
        match format {
            OutputFormat::Text => f(&line)?,
            OutputFormat::StreamJson => {
                for entry in transcript::parse_line(&line) {
                    f(&transcript::render(&entry))?;
                }
            }
        }
    }
}

/// The task's facts and prompt, up to the output's opening fence.
fn header(task: &TaskRecord) -> String {
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
    let fence = "`".repeat(longest_backtick_run(&task.prompt).max(2) + 1);
    out.push_str(&format!("{fence}\n{}\n{fence}\n", task.prompt));
    out.push_str("\n## Output\n\n");
    out
}

/// The longest run of backticks in a file, read in large chunks.
fn longest_backtick_run_in_file(path: &Path) -> io::Result<usize> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut buf = vec![0u8; 256 * 1024];
    let (mut longest, mut run) = (0, 0);
    loop {
        let n = io::Read::read(&mut file, &mut buf)?;
        if n == 0 {
            return Ok(longest.max(run));
        }
        let mut at = 0;
        while let Some(found) = memchr::memchr(b'`', &buf[at..n]) {
            // A run that started in an earlier chunk goes on only if this chunk starts with it.
            if at + found != 0 || run == 0 {
                longest = longest.max(run);
                run = 0;
            }
            let start = at + found;
            let len = buf[start..n].iter().take_while(|&&b| b == b'`').count();
            run += len;
            at = start + len;
            if at < n {
                longest = longest.max(run);
                run = 0;
            }
        }
        if at < n {
            longest = longest.max(run);
            run = 0;
        }
    }
}

/// The longest run of backticks in `text`, so a fence longer than it cannot be closed early
/// by output that contains Markdown fences.
fn longest_backtick_run(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut longest = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'`', &bytes[at..]) {
        let start = at + found;
        let run = bytes[start..].iter().take_while(|&&b| b == b'`').count();
        longest = longest.max(run);
        at = start + run;
    }
    longest
}

/// An RFC 3339 UTC timestamp, e.g. `2026-11-25T23:40:01Z`.
pub fn timestamp(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_scan_finds_runs_across_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("log");
        let mut bytes = vec![b'x'; 256 * 1024 - 2];
        bytes.extend_from_slice(b"`````"); // 2 in the first read, 3 in the next
        bytes.extend_from_slice(b" and ``` later\n");
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(longest_backtick_run_in_file(&path).expect("scan"), 5);
        std::fs::write(&path, b"a ```` b").expect("write");
        assert_eq!(longest_backtick_run_in_file(&path).expect("scan"), 4);
        assert_eq!(
            longest_backtick_run_in_file(&dir.path().join("none")).expect("scan"),
            0
        );
    }

    #[test]
    fn fences_are_longer_than_any_backtick_run() {
        assert_eq!(longest_backtick_run("no ticks"), 0);
        assert_eq!(longest_backtick_run("a `b` ```c``` ``"), 3);
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
