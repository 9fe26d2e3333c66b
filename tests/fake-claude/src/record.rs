//! `FAKE_CLAUDE_RECORD`: one JSON line per run, so tests can check how the agent was started,
//! and in two-way mode one more line per user or control message read from stdin.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;

use serde_json::{Map, Value};

use crate::args::Args;
use crate::json::Obj;

/// The variable naming the file to append to.
pub(crate) const RECORD_ENV: &str = "FAKE_CLAUDE_RECORD";

/// How the run was started.
#[derive(Debug)]
pub(crate) struct Start<'a> {
    pub(crate) argv: &'a [String],
    pub(crate) prompt: Option<&'a str>,
    pub(crate) prompt_from_stdin: bool,
    pub(crate) cwd: &'a str,
    /// The parsed command line, if it parsed.
    pub(crate) args: Option<&'a Args>,
}

/// Appends the start line if `FAKE_CLAUDE_RECORD` is set.
pub(crate) fn write(start: &Start<'_>) {
    append(&line(start));
}

/// Appends `{"pid":N,"stdin":MESSAGE}` for a message read from stdin in two-way mode.
pub(crate) fn stdin_message(message: &Value) {
    if std::env::var_os(RECORD_ENV).is_some() {
        let line = Obj::new()
            .field("pid", std::process::id())
            .field("stdin", message.clone())
            .build();
        append(&line);
    }
}

/// Appends one line if `FAKE_CLAUDE_RECORD` is set. A failure is reported on stderr and
/// otherwise ignored: the run goes on.
fn append(line: &str) {
    let Some(path) = std::env::var_os(RECORD_ENV) else {
        return;
    };
    let line = format!("{line}\n");
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        // One write, so concurrent runs appending to one file do not interleave.
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        let _ = writeln!(
            io::stderr(),
            "fake-claude: cannot append to {RECORD_ENV}={}: {err}",
            path.to_string_lossy()
        );
    }
}

fn line(start: &Start<'_>) -> String {
    let tasktray: Map<String, Value> = std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with("TASKTRAY_")
                .then(|| (name, value.to_string_lossy().into_owned().into()))
        })
        .collect();
    let claudecode = std::env::var_os("CLAUDECODE")
        .map_or(Value::Null, |v| v.to_string_lossy().into_owned().into());
    Obj::new()
        .field("pid", std::process::id())
        .field("argv", start.argv.to_vec())
        .field("prompt", start.prompt.map(str::to_owned))
        .field("prompt_from_stdin", start.prompt_from_stdin)
        .field("cwd", start.cwd)
        .field("stdin_is_pipe", stdin_is_pipe())
        .field("env_CLAUDECODE", claudecode)
        .field("env_TASKTRAY", tasktray)
        .field("input_format", start.args.map(|a| a.input_format.name()))
        .field(
            "permission_mode",
            start.args.map(|a| a.permission_mode.clone()),
        )
        .field(
            "permission_prompt_tool",
            start.args.and_then(|a| a.permission_prompt_tool.clone()),
        )
        .field(
            "allowed_tools",
            start
                .args
                .map(|a| a.allowed_tools.clone())
                .unwrap_or_default(),
        )
        .field(
            "disallowed_tools",
            start
                .args
                .map(|a| a.disallowed_tools.clone())
                .unwrap_or_default(),
        )
        .build()
}

/// Whether fd 0 is a FIFO (a pipe), as opposed to `/dev/null`, a file or a TTY.
fn stdin_is_pipe() -> bool {
    io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .and_then(|file| file.metadata())
        .is_ok_and(|meta| meta.file_type().is_fifo())
}
