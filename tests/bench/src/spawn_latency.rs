//! Benchmark 2, spawn to first line: from `Supervisor::spawn()` to the first `Event::Output`
//! of that task (subscribed before spawning), for a stream-json `fake: say hi` (a two-way task:
//! the prompt goes as a message on the agent's stdin). Baseline: the same agent with the same
//! argv spawned directly, the same opening lines written on its stdin, to its first line. Runs alternate between
//! the two, after one warm-up run of each that is not counted.
//!
//! The supervised path adds: the synchronous part of `spawn()` (id allocation, project lock, the
//! record written with fsync), the runner's start, the shim (this binary re-executed) and its
//! fork of the agent. `spawn_call_ms` isolates the first part.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Instant;

use serde::Serialize;
use supervisor::{OutputFormat, TaskOptions};

use crate::harness::{first_output, ms, Harness, Result, Summary};

/// "Within a few ms": the median supervised latency may exceed the raw one by this much.
pub const BUDGET_MS: f64 = 5.0;

const PROMPT: &str = "fake: say hi";

#[derive(Debug, Serialize)]
pub struct Report {
    pub prompt: &'static str,
    pub runs: usize,
    pub raw_ms: Summary,
    pub supervisor_ms: Summary,
    /// Time spent inside `spawn()` itself, before it returns the id.
    pub spawn_call_ms: Summary,
    pub diff_median_ms: f64,
    pub diff_p90_ms: f64,
    pub budget_ms: f64,
    pub within_budget: bool,
}

pub async fn run(h: &Harness, runs: usize) -> Result<Report> {
    let project = h.project("spawn")?;
    raw_first_line(h)?;
    supervised_first_line(h, &project).await?;
    let (mut raw, mut sup, mut call) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        raw.push(raw_first_line(h)?);
        let (first, spawn_call) = supervised_first_line(h, &project).await?;
        sup.push(first);
        call.push(spawn_call);
    }
    let raw_ms = Summary::of(&raw);
    let supervisor_ms = Summary::of(&sup);
    let diff_median_ms = supervisor_ms.median - raw_ms.median;
    Ok(Report {
        prompt: PROMPT,
        runs: raw.len(),
        raw_ms,
        supervisor_ms,
        spawn_call_ms: Summary::of(&call),
        diff_median_ms,
        diff_p90_ms: supervisor_ms.p90 - raw_ms.p90,
        budget_ms: BUDGET_MS,
        within_budget: diff_median_ms <= BUDGET_MS,
    })
}

/// The same agent and argv as a task with the default options (the two-way protocol), spawned
/// directly: `initialize` and the prompt written on its stdin as the supervisor writes them,
/// spawn to its first line, in ms.
fn raw_first_line(h: &Harness) -> Result<f64> {
    let (args, _) = supervisor::agent_args(PROMPT, &TaskOptions::default());
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = h.raw_agent(&args);
    command.stdin(Stdio::piped()).stdout(Stdio::piped());
    let opening = format!(
        "{}\n{}\n",
        serde_json::json!({"type": "control_request", "request_id": "bench",
            "request": {"subtype": "initialize", "hooks": null}}),
        serde_json::json!({"type": "user", "message": {"role": "user", "content": PROMPT},
            "parent_tool_use_id": null, "session_id": ""}),
    );
    let start = Instant::now();
    let mut child = command.spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or("the raw agent has no stdin pipe")?;
    stdin.write_all(opening.as_bytes())?;
    let stdout = child
        .stdout
        .take()
        .ok_or("the raw agent has no stdout pipe")?;
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    let elapsed = ms(start.elapsed());
    // The end of its input ends the agent's session.
    drop(stdin);
    std::io::copy(&mut reader, &mut std::io::sink())?;
    child.wait()?;
    if line.is_empty() {
        return Err("the raw agent printed nothing".into());
    }
    Ok(elapsed)
}

/// Spawn to the task's first output event, and the time inside `spawn()`, in ms.
async fn supervised_first_line(h: &Harness, project: &std::path::Path) -> Result<(f64, f64)> {
    let mut events = h.sup.subscribe();
    let start = Instant::now();
    let id = h
        .sup
        .spawn(h.request(project, PROMPT, OutputFormat::StreamJson))?;
    let spawn_call = ms(start.elapsed());
    first_output(&mut events, id, "").await?;
    let first = ms(start.elapsed());
    drop(events);
    h.sup.wait(id).await?;
    h.forget(id);
    Ok((first, spawn_call))
}
