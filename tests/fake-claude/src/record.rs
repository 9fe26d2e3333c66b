//! `FAKE_CLAUDE_RECORD`: one JSON line per run, so tests can check how the agent was started.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;

use serde_json::{Map, Value};

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
}

/// Appends the record line if `FAKE_CLAUDE_RECORD` is set. A failure is reported on stderr and
/// otherwise ignored: the run goes on.
pub(crate) fn write(start: &Start<'_>) {
    let Some(path) = std::env::var_os(RECORD_ENV) else {
        return;
    };
    let line = format!("{}\n", line(start));
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
