//! Benchmark 4, memory with many concurrent chatty tasks: N projects, each running
//! `fake: flood LINES BYTES; sleep S` at once, with the default ring sizes. A thread samples
//! this process's `VmRSS` every 20 ms; the peak growth over the reading before the spawns is
//! compared with the theoretical bound, N × `ring_bytes`.
//!
//! Two peaks are kept: while every task is still running (output only: rings, buffers, the
//! event queue), and overall, which also covers the finish of each task (its transcript is
//! rendered in memory from the whole log). `VmHWM`, reset before the spawns, catches spikes
//! between two samples, so the overall peak is the larger of the two readings.
//!
//! A subscriber counts `Output` events (and those it missed by lagging), so the event rate per
//! task can be compared with the UI budget of ≤ 20 batched events per second per task (the
//! batching itself is a later issue; this reports the raw rate).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use supervisor::{Event, OutputFormat, Supervisor, TaskStatus};
use tokio::sync::{broadcast, oneshot};

use crate::harness::{ms, reset_peak_rss, status_kib, Harness, Result, Summary};

/// How often RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// The budget (docs/design.md) for UI events per task, once batched.
pub const UI_EVENTS_PER_S_PER_TASK: f64 = 20.0;

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub tasks: usize,
    pub lines: u64,
    pub line_bytes: usize,
    pub sleep_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub tasks: usize,
    pub prompt: String,
    pub ring_lines: usize,
    pub ring_bytes: usize,
    /// N × `ring_bytes`.
    pub bound_bytes: u64,
    /// What the rings can actually hold here: N × min(ring_lines × line size, ring_bytes).
    pub rings_full_bytes: u64,
    pub rss_before_kib: u64,
    pub rss_peak_running_kib: u64,
    /// The larger of the sampled peak and `VmHWM`.
    pub rss_peak_kib: u64,
    pub rss_peak_sampled_kib: u64,
    pub rss_after_kib: u64,
    pub hwm_kib: Option<u64>,
    pub peak_running_delta_bytes: u64,
    pub peak_delta_bytes: u64,
    pub samples: usize,
    /// Most tasks seen running at once by the sampler.
    pub max_concurrent: usize,
    pub spawn_all_ms: f64,
    pub wall_s: f64,
    pub all_completed: bool,
    pub leftover_processes: usize,
    /// Sum of the records' `line_count`.
    pub total_lines: u64,
    pub output_events: u64,
    pub lagged_events: u64,
    /// Output events (lines) per second of all tasks together, over the wall time.
    pub events_per_s_total: f64,
    /// Lines per second per task over its whole life (record start to finish).
    pub lifetime_events_per_s_per_task: Summary,
    /// The same without the trailing sleep: roughly the rate while the task floods.
    pub busy_events_per_s_per_task: Summary,
    pub ui_budget_events_per_s_per_task: f64,
    pub within_bound_while_running: bool,
    /// The overall peak (finish included) stays within N × `ring_bytes`.
    pub within_budget: bool,
}

pub async fn run(h: &Harness, p: Params) -> Result<Report> {
    let prompt = format!(
        "fake: flood {} {}; sleep {}",
        p.lines, p.line_bytes, p.sleep_s
    );
    let projects = (0..p.tasks)
        .map(|i| h.project(&format!("memory-{i:03}")))
        .collect::<Result<Vec<_>>>()?;

    let events = h.sup.subscribe();
    let (stop_counting, stop_rx) = oneshot::channel();
    let counter = tokio::spawn(count_events(events, stop_rx));
    let hwm_reset = reset_peak_rss();
    let before = status_kib("VmRSS:").ok_or("no VmRSS in /proc/self/status")?;
    let sampler = Sampler::start(h.sup.clone());

    let start = Instant::now();
    let mut ids = Vec::with_capacity(p.tasks);
    for project in &projects {
        ids.push(
            h.sup
                .spawn(h.request(project, &prompt, OutputFormat::StreamJson))?,
        );
    }
    let spawn_all_ms = ms(start.elapsed());
    let mut records = Vec::with_capacity(ids.len());
    for &id in &ids {
        records.push(h.sup.wait(id).await?);
    }
    let wall_s = start.elapsed().as_secs_f64();
    let sampled = sampler.stop();
    let after = status_kib("VmRSS:").unwrap_or(0);
    let hwm_kib = hwm_reset.then(|| status_kib("VmHWM:")).flatten();
    let _ = stop_counting.send(());
    let counted = counter.await?;

    let leftover_processes = ids.iter().map(|&id| h.leftovers(id).len()).sum();
    let lifetime: Vec<f64> = records
        .iter()
        .map(|r| r.line_count as f64 / (r.duration_ms(0) as f64 / 1000.0).max(1e-3))
        .collect();
    // The same without the trailing sleep: roughly the rate while the task floods.
    let busy: Vec<f64> = records
        .iter()
        .map(|r| {
            let seconds = r.duration_ms(0) as f64 / 1000.0 - p.sleep_s;
            r.line_count as f64 / seconds.max(1e-3)
        })
        .collect();
    let total_lines = records.iter().map(|r| r.line_count).sum::<u64>();
    for &id in &ids {
        h.forget(id);
    }

    let bound_bytes = (p.tasks * h.config.ring_bytes) as u64;
    let per_ring = (h.config.ring_lines * p.line_bytes).min(h.config.ring_bytes);
    let delta = |kib: u64| kib.saturating_sub(before) * 1024;
    // VmHWM catches spikes between two samples; the sampled peak stands in without it.
    let peak_kib = sampled.peak.max(hwm_kib.unwrap_or(0));
    let peak_delta_bytes = delta(peak_kib);
    let peak_running_delta_bytes = delta(sampled.peak_running);
    Ok(Report {
        tasks: p.tasks,
        prompt,
        ring_lines: h.config.ring_lines,
        ring_bytes: h.config.ring_bytes,
        bound_bytes,
        rings_full_bytes: (p.tasks * per_ring) as u64,
        rss_before_kib: before,
        rss_peak_running_kib: sampled.peak_running,
        rss_peak_kib: peak_kib,
        rss_peak_sampled_kib: sampled.peak,
        rss_after_kib: after,
        hwm_kib,
        peak_running_delta_bytes,
        peak_delta_bytes,
        samples: sampled.samples,
        max_concurrent: sampled.max_running,
        spawn_all_ms,
        wall_s,
        all_completed: records.iter().all(|r| r.status == TaskStatus::Completed),
        leftover_processes,
        total_lines,
        output_events: counted.outputs,
        lagged_events: counted.lagged,
        events_per_s_total: total_lines as f64 / wall_s.max(1e-3),
        lifetime_events_per_s_per_task: Summary::of(&lifetime),
        busy_events_per_s_per_task: Summary::of(&busy),
        ui_budget_events_per_s_per_task: UI_EVENTS_PER_S_PER_TASK,
        within_bound_while_running: peak_running_delta_bytes <= bound_bytes,
        within_budget: peak_delta_bytes <= bound_bytes,
    })
}

/// RSS readings from a background thread.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Sampled>,
}

#[derive(Debug, Default)]
struct Sampled {
    peak: u64,
    /// The peak before the first task finished.
    peak_running: u64,
    samples: usize,
    max_running: usize,
}

impl Sampler {
    fn start(sup: Supervisor) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut out = Sampled::default();
            let mut any_finished = false;
            loop {
                let rss = status_kib("VmRSS:").unwrap_or(0);
                out.peak = out.peak.max(rss);
                let all = sup.all();
                let running = all.iter().filter(|r| r.status.is_active()).count();
                out.max_running = out.max_running.max(running);
                // A finished status is set before the transcript is written, so this catches
                // the start of the first finish (to within one sample).
                any_finished |= running < all.len();
                if !any_finished {
                    out.peak_running = out.peak_running.max(rss);
                }
                out.samples += 1;
                if flag.load(Ordering::Relaxed) {
                    return out;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        Sampler { stop, thread }
    }

    fn stop(self) -> Sampled {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct Counted {
    outputs: u64,
    lagged: u64,
}

/// Counts output events until told to stop, then drains what is already queued.
async fn count_events(
    mut events: broadcast::Receiver<Event>,
    mut stop: oneshot::Receiver<()>,
) -> Counted {
    let mut counted = Counted::default();
    loop {
        // Both branches are cancel-safe; `biased` makes the stop win only once the queue is
        // empty, so every event sent before the stop is counted.
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(Event::Output { .. }) => counted.outputs += 1,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => counted.lagged += n,
                Err(broadcast::error::RecvError::Closed) => return counted,
            },
            _ = &mut stop => return counted,
        }
    }
}
