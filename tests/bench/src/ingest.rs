//! Benchmark 1, ingest: one task floods its stdout (`fake: flood N BYTES`, text format)
//! and the supervisor frames every line into its log, ring and event stream. Baseline: the
//! same agent with its stdout redirected to a file (`fake-claude -p PROMPT > file`), timed in
//! the same run.
//!
//! Runs are interleaved (baseline, pipe, supervised, supervised with a subscriber) so drift on
//! a shared machine hits every side alike; the figure is the median run of each.
//!
//! A supervised run is timed from `spawn()` to `wait()` returning. That includes the task's
//! finish (the record and the transcript file written into the project, which copies the whole
//! log), so the log file's mtime splits it: `to_last_line_s` is spawn to the last log write,
//! `finish_s` the rest; `transcript_s` times one more `report::write` of the same task alone.
//!
//! A second, informative baseline (`pipe`) reads the agent's stdout through a pipe in 64 KiB
//! chunks and writes them to a file, with no framing: the floor for any reader of a pipe.

use std::fs::File;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Instant, SystemTime};

use serde::Serialize;
use supervisor::{Event, OutputFormat, TaskStatus};
use tokio::sync::broadcast;

use crate::harness::{count_lines, reset_peak_rss, status_kib, Harness, Result};

/// The budget (docs/design.md): the supervised rate is at least this fraction of the raw rate.
pub const BUDGET_RATIO: f64 = 0.5;

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub lines: u64,
    pub line_bytes: usize,
    pub reps: usize,
    /// Also run with a subscriber that drains the event stream, as the app's UI forwarder does.
    pub subscribed: bool,
}

/// One timed run: how much came through and how fast.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Throughput {
    pub seconds: f64,
    pub lines: u64,
    pub bytes: u64,
    pub lines_per_s: f64,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_s: f64,
}

impl Throughput {
    fn new(seconds: f64, lines: u64, bytes: u64) -> Self {
        let seconds = seconds.max(1e-9);
        Throughput {
            seconds,
            lines,
            bytes,
            lines_per_s: lines as f64 / seconds,
            mb_per_s: bytes as f64 / seconds / 1e6,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SupervisedRun {
    #[serde(flatten)]
    pub total: Throughput,
    /// From `spawn()` to the last write to the task's log (its mtime; ~4 ms resolution).
    pub to_last_line_s: Option<f64>,
    /// From the last log write to `wait()` returning: final record and transcript.
    pub finish_s: Option<f64>,
    /// One more `report::write` of the finished task, timed alone (plain runs only).
    pub transcript_s: Option<f64>,
    /// Peak RSS growth (`VmHWM`) during that write: the memory a finish takes.
    pub transcript_peak_bytes: Option<u64>,
    /// Output events the subscriber received, and those it missed (`Lagged`).
    pub events: Option<u64>,
    pub lagged: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub prompt: String,
    pub reps: usize,
    pub raw_runs: Vec<Throughput>,
    pub pipe_runs: Vec<Throughput>,
    pub supervisor_runs: Vec<SupervisedRun>,
    pub subscribed_runs: Vec<SupervisedRun>,
    /// The median run of each (by time).
    pub raw: Throughput,
    pub pipe: Throughput,
    pub supervisor: SupervisedRun,
    pub subscribed: Option<SupervisedRun>,
    /// Supervisor lines/s over raw lines/s, spawn to `wait()` (the budgeted figure).
    pub ratio: f64,
    /// The same up to the last line written to the log, i.e. without the finish.
    pub ratio_to_last_line: Option<f64>,
    pub subscribed_ratio: Option<f64>,
    /// Pipe-reader lines/s over raw lines/s: what any pipe reader can reach here.
    pub pipe_ratio: f64,
    pub budget_ratio: f64,
    /// Every supervised log holds as many lines as the baseline's file (N flood lines plus
    /// the final answer).
    pub all_lines_logged: bool,
    pub within_budget: bool,
}

pub async fn run(h: &Harness, p: Params) -> Result<Report> {
    let prompt = format!("fake: flood {} {}", p.lines, p.line_bytes);
    let project = h.project("ingest")?;
    let mut raw_runs = Vec::new();
    let mut pipe_runs = Vec::new();
    let mut supervisor_runs = Vec::new();
    let mut subscribed_runs = Vec::new();
    let mut all_lines_logged = true;
    for rep in 0..p.reps.max(1) {
        let raw = raw_run(h, &prompt, rep)?;
        pipe_runs.push(pipe_run(h, &prompt, rep)?);
        let mut check = |run: &SupervisedRun| {
            all_lines_logged &= run.total.lines == raw.lines && run.total.lines >= p.lines;
        };
        let plain = supervised(h, &project, &prompt, false).await?;
        check(&plain);
        supervisor_runs.push(plain);
        if p.subscribed {
            let sub = supervised(h, &project, &prompt, true).await?;
            check(&sub);
            subscribed_runs.push(sub);
        }
        raw_runs.push(raw);
    }
    let raw = median_by(&raw_runs, |r| r.seconds).ok_or("no raw runs")?;
    let pipe = median_by(&pipe_runs, |r| r.seconds).ok_or("no pipe runs")?;
    let supervisor = median_by(&supervisor_runs, |r| r.total.seconds).ok_or("no runs")?;
    let subscribed = median_by(&subscribed_runs, |r| r.total.seconds);
    let ratio = supervisor.total.lines_per_s / raw.lines_per_s;
    let ratio_to_last_line = supervisor
        .to_last_line_s
        .map(|s| (supervisor.total.lines as f64 / s.max(1e-9)) / raw.lines_per_s);
    Ok(Report {
        prompt,
        reps: raw_runs.len(),
        raw_runs,
        pipe_runs,
        supervisor_runs,
        subscribed_runs,
        raw,
        pipe,
        supervisor,
        subscribed,
        ratio,
        ratio_to_last_line,
        subscribed_ratio: subscribed.map(|s| s.total.lines_per_s / raw.lines_per_s),
        pipe_ratio: pipe.lines_per_s / raw.lines_per_s,
        budget_ratio: BUDGET_RATIO,
        all_lines_logged,
        within_budget: ratio >= BUDGET_RATIO && all_lines_logged,
    })
}

/// The run with the median time (the lower middle one for an even count).
fn median_by<T: Copy>(runs: &[T], key: impl Fn(&T) -> f64) -> Option<T> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// `fake-claude -p PROMPT > file`, timed from spawn to exit.
fn raw_run(h: &Harness, prompt: &str, rep: usize) -> Result<Throughput> {
    let path = h.scratch().join(format!("raw-{rep}.out"));
    let file = File::create(&path)?;
    let mut command = h.raw_agent(&["-p", prompt]);
    command.stdout(file);
    let start = Instant::now();
    let status = command.status()?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("the raw agent failed: {status}").into());
    }
    let (lines, bytes) = count_lines(&path)?;
    std::fs::remove_file(&path)?;
    Ok(Throughput::new(seconds, lines, bytes))
}

/// The agent's stdout read through a pipe in 64 KiB chunks and written to a file, unframed.
fn pipe_run(h: &Harness, prompt: &str, rep: usize) -> Result<Throughput> {
    let path = h.scratch().join(format!("pipe-{rep}.out"));
    let mut file = File::create(&path)?;
    let mut command = h.raw_agent(&["-p", prompt]);
    command.stdout(Stdio::piped());
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let mut child = command.spawn()?;
    let mut stdout = child.stdout.take().ok_or("the agent has no stdout pipe")?;
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])?;
    }
    let status = child.wait()?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("the piped agent failed: {status}").into());
    }
    let (lines, bytes) = count_lines(&path)?;
    std::fs::remove_file(&path)?;
    Ok(Throughput::new(seconds, lines, bytes))
}

async fn supervised(
    h: &Harness,
    project: &std::path::Path,
    prompt: &str,
    subscribe: bool,
) -> Result<SupervisedRun> {
    // Only this task runs on this supervisor, so every output event is its own.
    let counter = subscribe.then(|| tokio::spawn(count_output(h.sup.subscribe())));
    let wall_start = SystemTime::now();
    let start = Instant::now();
    let id = h
        .sup
        .spawn(h.request(project, prompt, OutputFormat::Text))?;
    let record = h.sup.wait(id).await?;
    let seconds = start.elapsed().as_secs_f64();
    if record.status != TaskStatus::Completed {
        return Err(format!("ingest task {id} ended {}", record.status).into());
    }
    let log = h.sup.history().log_path(id);
    let last_write = std::fs::metadata(&log)?.modified()?;
    let to_last_line_s = last_write
        .duration_since(wall_start)
        .ok()
        .map(|d| d.as_secs_f64());
    let (lines, bytes) = count_lines(&log)?;
    let (transcript_s, transcript_peak_bytes) = if subscribe {
        (None, None)
    } else {
        let reset = reset_peak_rss();
        let rss = status_kib("VmRSS:");
        let again = Instant::now();
        supervisor::report::write(h.sup.history(), &record)?;
        let seconds = again.elapsed().as_secs_f64();
        let peak = reset.then(|| status_kib("VmHWM:")).flatten();
        let grown = peak.zip(rss).map(|(p, r)| p.saturating_sub(r) * 1024);
        (Some(seconds), grown)
    };
    h.forget(id);
    let counted = match counter {
        Some(counter) => Some(counter.await?),
        None => None,
    };
    Ok(SupervisedRun {
        total: Throughput::new(seconds, lines, bytes),
        to_last_line_s,
        finish_s: to_last_line_s.map(|s| (seconds - s).max(0.0)),
        transcript_s,
        transcript_peak_bytes,
        events: counted.map(|c| c.0),
        lagged: counted.map(|c| c.1),
    })
}

/// Drains the event stream until a task finishes: (output events, events missed by lag).
async fn count_output(mut events: broadcast::Receiver<Event>) -> (u64, u64) {
    let (mut outputs, mut lagged) = (0, 0);
    loop {
        match events.recv().await {
            Ok(Event::Output { .. }) => outputs += 1,
            Ok(event) if event.is_finish() => return (outputs, lagged),
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => lagged += n,
            Err(broadcast::error::RecvError::Closed) => return (outputs, lagged),
        }
    }
}
