//! Benchmark 10, ingest as a user meets it: a whole `taskctl run --local` of a flooding agent,
//! timed from outside (exec to exit, the record, log and transcript written, its own output
//! printed to a file), against the raw `agent > file` pipeline, alternating in the same run:
//!
//! - text: `fake: flood 1000000 120` (1M lines of 120 bytes);
//! - stream-json: `fake: chatter 100000` (100k assistant messages), whose raw side is
//!   `fake-claude -p … --output-format stream-json --verbose > file`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

use crate::harness::{fake_claude, ms, sibling, Result, Summary};

/// A whole `taskctl run` may take at most this many times the raw pipeline.
pub const BUDGET_RATIO: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub reps: usize,
}

#[derive(Debug, Serialize)]
pub struct Case {
    pub prompt: String,
    pub raw_ms: Summary,
    pub taskctl_ms: Summary,
    /// taskctl / raw, medians.
    pub ratio: f64,
    /// Lines the raw pipeline wrote; the task's log must hold as many.
    pub raw_lines: u64,
    pub logged_lines: u64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub text: Case,
    pub stream_json: Case,
    pub budget_ratio: f64,
    pub within_budget: bool,
}

pub fn run(params: Params) -> Result<Report> {
    let text = case(params, "fake: flood 1000000 120", false)?;
    let stream_json = case(params, "fake: chatter 100000", true)?;
    let within_budget = text.ratio <= BUDGET_RATIO && stream_json.ratio <= BUDGET_RATIO;
    Ok(Report {
        text,
        stream_json,
        budget_ratio: BUDGET_RATIO,
        within_budget,
    })
}

fn case(params: Params, prompt: &str, stream_json: bool) -> Result<Case> {
    let fake = fake_claude()?;
    let taskctl = sibling("taskctl", "`cargo build --release -p taskctl`")?;
    let root = tempfile::Builder::new()
        .prefix("tasktray-bench-run")
        .tempdir()?;
    let project = root.path().join("project");
    let home = root.path().join("home");
    let data = root.path().join("data");
    for dir in [&project, &home] {
        std::fs::create_dir_all(dir)?;
    }
    let raw_out = root.path().join("raw.out");
    let run_out = root.path().join("taskctl.out");

    let raw = || -> Result<f64> {
        let mut cmd = Command::new(&fake);
        cmd.args(["-p", prompt]);
        if stream_json {
            cmd.args(["--output-format", "stream-json", "--verbose"]);
        }
        cmd.current_dir(&project);
        timed(&mut cmd, &raw_out, "the raw agent")
    };
    let whole = || -> Result<f64> {
        let mut cmd = Command::new(&taskctl);
        cmd.args(["run", "--local", "--dir"])
            .arg(&project)
            .args(["--format", if stream_json { "stream-json" } else { "text" }])
            .arg(prompt)
            .env("TASKTRAY_DATA_DIR", &data)
            .env("TASKTRAY_AGENT", &fake)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &home)
            .env("IS_SANDBOX", "1");
        timed(&mut cmd, &run_out, "taskctl run")
    };
    // A warm-up of each, then alternate.
    raw()?;
    whole()?;
    let (mut raws, mut wholes) = (Vec::new(), Vec::new());
    for _ in 0..params.reps {
        raws.push(raw()?);
        wholes.push(whole()?);
    }
    let raw_lines = lines(&raw_out)?;
    let history = supervisor::History::open(&data)?;
    let last = history
        .list(&supervisor::TaskQuery {
            limit: Some(1),
            ..Default::default()
        })?
        .tasks
        .into_iter()
        .next()
        .ok_or("taskctl recorded no task")?;
    let logged_lines = history.log_line_count(last.id)?;
    let raw_ms = Summary::of(&raws);
    let taskctl_ms = Summary::of(&wholes);
    Ok(Case {
        prompt: prompt.to_owned(),
        ratio: taskctl_ms.median / raw_ms.median,
        raw_ms,
        taskctl_ms,
        raw_lines,
        logged_lines,
    })
}

/// Runs `cmd` with its stdout on the file `out`; the ms from exec to exit.
fn timed(cmd: &mut Command, out: &Path, what: &str) -> Result<f64> {
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(out)?)
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = cmd.status()?;
    let took = ms(started.elapsed());
    if !status.success() {
        return Err(format!("{what} failed: {status}").into());
    }
    Ok(took)
}

fn lines(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path)?;
    Ok(bytes.iter().filter(|&&b| b == b'\n').count() as u64)
}
