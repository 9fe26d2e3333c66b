//! The host of benchmark 6 (API under load): this binary started again with `--api-host`, so
//! the process that is measured holds only what the app's would (a supervisor with the fake
//! agent on a temporary data dir, and the API server on a socket in it), on a fresh heap.
//!
//! It talks to the driver ([`crate::api_load`]) in lines: it prints `ready <json>` (the
//! socket, the projects, its task marker), then takes `phase <name>` on stdin (answered with
//! `ok` once the phase's first RSS reading is taken) until `finish`; then it checks the load
//! projects' tasks through the supervisor (all ended, the running limit held, first in first
//! out per project), stops the server, shuts the supervisor down and prints `result <json>`.
//! A thread samples `VmRSS` every 20 ms and the queue's length, per phase.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use supervisor::{Supervisor, TaskId, TaskRecord, TaskStatus};
use tasktray_api::{ApiServer, ApiState, FileSettings};

use crate::harness::{marked_with_prefix, ms, reset_peak_rss, status_kib, Harness, Result};
use crate::SHUTDOWN_DEADLINE;

/// How often RSS and the queue are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// The phase before the driver names one (setting up, seeding).
const SETUP: &str = "setup";

/// What the driver asks for.
#[derive(Debug, Serialize, Deserialize)]
pub struct HostParams {
    pub max_running: usize,
    pub projects: usize,
    pub seed_projects: usize,
    pub grace_ms: u64,
    /// The runtime's worker threads; 0 for one per core, as in the app.
    pub workers: usize,
}

/// Printed once the server answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ready {
    pub pid: u32,
    pub socket: PathBuf,
    /// Where the burst goes; the checks cover these.
    pub projects: Vec<PathBuf>,
    /// Where the seed tasks go (the idle phase's targets).
    pub seed_projects: Vec<PathBuf>,
    /// `TASKTRAY_TASK` values of this host's processes start with it.
    pub marker_prefix: String,
}

/// RSS within one phase, in KiB.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct PhaseRss {
    /// Read when the phase began.
    pub start_kib: u64,
    pub peak_kib: u64,
    pub end_kib: u64,
    pub samples: usize,
    /// The longest queue seen.
    pub queue_peak: usize,
}

/// The load projects' tasks, as the supervisor has them at the end.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TaskCheck {
    pub total: usize,
    pub completed: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// Still queued, pending, running or waiting.
    pub active: usize,
    /// The running limit.
    pub limit: usize,
    /// Most tasks between their start and their end at one instant (from the records).
    pub max_running_at_once: usize,
    /// Tasks that started before an older task of their project.
    pub fifo_violations: usize,
    /// Spawn to start of each task, in ms.
    pub queue_wait_ms: Vec<f64>,
    /// Start to end of each task, in ms.
    pub run_ms: Vec<f64>,
}

/// Everything the host measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct HostReport {
    /// Per phase, in the order the driver entered them.
    pub rss: Vec<(String, PhaseRss)>,
    /// `VmHWM`, reset when the server came up.
    pub hwm_kib: Option<u64>,
    pub tasks: TaskCheck,
    /// Processes with this host's marker once the load projects' tasks all ended.
    pub leftovers_before_shutdown: usize,
    pub server_stop_ms: f64,
    pub shutdown_ms: f64,
}

/// `tasktray-bench --api-host <json>`.
pub fn main(params: &str) -> ExitCode {
    let run = || -> Result<()> {
        let params: HostParams = serde_json::from_str(params)?;
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if params.workers > 0 {
            builder.worker_threads(params.workers);
        }
        let runtime = builder.enable_all().build()?;
        let handle = runtime.handle().clone();
        runtime.block_on(host(params, handle))
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tasktray-bench (api host): {e}");
            ExitCode::FAILURE
        }
    }
}

/// One line to the driver.
fn say_line(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

fn say(what: &str, value: &impl Serialize) -> Result<()> {
    say_line(&format!("{what} {}", serde_json::to_string(value)?))
}

async fn host(p: HostParams, handle: tokio::runtime::Handle) -> Result<()> {
    let h = Harness::start(Duration::from_millis(p.grace_ms), &handle)?;
    h.sup.configure(|c| c.max_running = Some(p.max_running));
    let projects = (0..p.projects)
        .map(|i| h.project(&format!("api-{i:02}")))
        .collect::<Result<Vec<_>>>()?;
    let seed_projects = (0..p.seed_projects)
        .map(|i| h.project(&format!("seed-{i:02}")))
        .collect::<Result<Vec<_>>>()?;
    let runtime_dir = h.scratch().join("run");
    std::fs::create_dir_all(&runtime_dir)?;
    let socket = tasktray_api::socket_path(Some(&runtime_dir), nix::unistd::geteuid().as_raw());
    let settings = Arc::new(FileSettings::new(h.sup.clone()));
    let server = ApiServer::start(&socket, ApiState::new(h.sup.clone(), settings))?;
    let marker = h.sup.marker(TaskId(0)).to_string_lossy().into_owned();
    let marker_prefix = marker.trim_end_matches('0').to_owned();

    let hwm_reset = reset_peak_rss();
    let sampler = Sampler::start(h.sup.clone());
    say(
        "ready",
        &Ready {
            pid: std::process::id(),
            socket,
            projects: projects.clone(),
            seed_projects,
            marker_prefix: marker_prefix.clone(),
        },
    )?;

    // EOF (the driver is gone) ends the run like `finish`.
    let mut lines = stdin_lines();
    while let Some(line) = lines.recv().await {
        match line.trim() {
            "finish" => break,
            other => {
                if let Some(phase) = other.strip_prefix("phase ") {
                    sampler.enter(phase);
                    say_line("ok")?;
                }
            }
        }
    }
    let rss = sampler.stop();
    let hwm_kib = hwm_reset.then(|| status_kib("VmHWM:")).flatten();

    // Records hold the canonical folder.
    let canonical = projects
        .iter()
        .map(std::fs::canonicalize)
        .collect::<std::io::Result<Vec<_>>>()?;
    let records: Vec<TaskRecord> = h
        .sup
        .all()
        .into_iter()
        .filter(|r| canonical.contains(&r.project_dir))
        .collect();
    let tasks = check(&records, p.max_running);
    let leftovers_before_shutdown = marked_with_prefix(&marker_prefix).len();

    let start = Instant::now();
    server.stop().await;
    let server_stop_ms = ms(start.elapsed());
    let start = Instant::now();
    h.sup.shutdown(SHUTDOWN_DEADLINE).await;
    let shutdown_ms = ms(start.elapsed());
    say(
        "result",
        &HostReport {
            rss,
            hwm_kib,
            tasks,
            leftovers_before_shutdown,
            server_stop_ms,
            shutdown_ms,
        },
    )
}

/// The lines of stdin, read by a thread of their own.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Statuses, the running limit and the order of starts, from the final records.
fn check(records: &[TaskRecord], limit: usize) -> TaskCheck {
    let count = |status: TaskStatus| records.iter().filter(|r| r.status == status).count();
    // The limit counts a task from before its agent starts until after it ends, so the
    // recorded start-to-end spans can only overlap less. Ends sort before starts at a tie.
    let mut edges: Vec<(u64, i32)> = records
        .iter()
        .filter_map(|r| Some([(r.started_at_ms?, 1), (r.finished_at_ms?, -1)]))
        .flatten()
        .collect();
    edges.sort_unstable();
    let (mut now, mut max_running_at_once) = (0i32, 0i32);
    for (_, edge) in edges {
        now += edge;
        max_running_at_once = max_running_at_once.max(now);
    }
    let mut by_project: BTreeMap<&std::path::Path, Vec<&TaskRecord>> = BTreeMap::new();
    for record in records {
        by_project
            .entry(record.project_dir.as_path())
            .or_default()
            .push(record);
    }
    let mut fifo_violations = 0;
    for tasks in by_project.values_mut() {
        tasks.sort_by_key(|r| r.id);
        let starts: Vec<u64> = tasks.iter().filter_map(|r| r.started_at_ms).collect();
        fifo_violations += starts.windows(2).filter(|w| w[1] < w[0]).count();
    }
    let span = |from: Option<u64>, to: Option<u64>| Some(to?.saturating_sub(from?) as f64);
    TaskCheck {
        total: records.len(),
        completed: count(TaskStatus::Completed),
        failed: count(TaskStatus::Failed),
        cancelled: count(TaskStatus::Cancelled),
        active: records.iter().filter(|r| r.status.is_active()).count(),
        limit,
        max_running_at_once: max_running_at_once.max(0) as usize,
        fifo_violations,
        queue_wait_ms: records
            .iter()
            .filter_map(|r| span(Some(r.created_at_ms), r.started_at_ms))
            .collect(),
        run_ms: records
            .iter()
            .filter_map(|r| span(r.started_at_ms, r.finished_at_ms))
            .collect(),
    }
}

/// RSS and queue readings from a background thread, filed under the current phase.
struct Sampler {
    phases: Arc<Mutex<Vec<(String, PhaseRss)>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start(sup: Supervisor) -> Self {
        let phases = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = Sampler {
            phases: phases.clone(),
            stop: stop.clone(),
            thread: std::thread::spawn({
                let phases = phases.clone();
                move || loop {
                    let rss = status_kib("VmRSS:").unwrap_or(0);
                    let queued = sup.queue().len();
                    if let Some((_, phase)) = lock(&phases).last_mut() {
                        phase.peak_kib = phase.peak_kib.max(rss);
                        phase.end_kib = rss;
                        phase.queue_peak = phase.queue_peak.max(queued);
                        phase.samples += 1;
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            }),
        };
        sampler.enter(SETUP);
        sampler
    }

    /// Files the readings from now on under `name`, starting with one taken now.
    fn enter(&self, name: &str) {
        let rss = status_kib("VmRSS:").unwrap_or(0);
        lock(&self.phases).push((
            name.to_owned(),
            PhaseRss {
                start_kib: rss,
                peak_kib: rss,
                end_kib: rss,
                ..PhaseRss::default()
            },
        ));
    }

    fn stop(self) -> Vec<(String, PhaseRss)> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        std::mem::take(&mut *lock(&self.phases))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
