//! Benchmark 6, the API under load. A host process ([`crate::api_host`]: this binary again,
//! a supervisor with the fake agent and the API server on a temporary socket, on a fresh heap)
//! is driven from this process over its socket, with the API's own client:
//!
//! 1. setup: seed tasks (`fake: say hi`), which the probes read;
//! 2. idle: the baseline, `--api-requests` probes alternating `GET /v1/tasks?limit=50` and
//!    `GET /v1/tasks/{id}` (one connection each, 5 ms apart, from a thread of their own);
//! 3. clients: `--api-clients` followers of `GET /v1/events`, each reading its stream;
//! 4. load: a burst of `--api-tasks` spawns with `queue: true` (`--api-senders` at once, over
//!    `--api-projects` projects, the host's running limit `--api-max-running`), while the
//!    probes go on, until every task ended;
//! 5. catch-up: a seed task is removed; each follower stops at its `removed` event, so it has
//!    read everything sent before (or was told by a `resync` what it missed);
//! 6. after: the probes again, idle, with the burst's tasks in the history.
//!
//! The host files its RSS per phase; the figures are ratios against the idle phase of the same
//! run (latency p50 and p99, peak RSS), plus absolute numbers. Nothing here has a time budget:
//! the verdict is about correctness (every spawn accepted and every task completed, the limit
//! and the order held, every follower saw every finish or a resync, nothing left behind).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tasktray_api::client::Client;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinSet;

use crate::api_clients::{Followed, Followers, Probed, Prober};
use crate::api_host::{HostParams, HostReport, PhaseRss, Ready, TaskCheck};
use crate::harness::{marked_with_prefix, ms, nearest_rank, Result, Summary};

/// The task every spawn runs: a short two-way task.
pub const PROMPT: &str = "fake: say hi";

/// Longest wait for the host's answer to one line.
const HOST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the seed tasks, and for the streams to open.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait, from the first spawn, for the burst's tasks to end.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest wait for the followers to read up to the sentinel.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub clients: usize,
    pub tasks: usize,
    pub projects: usize,
    pub max_running: usize,
    pub senders: usize,
    /// Probes in each idle phase.
    pub requests: usize,
    pub seed: usize,
    pub grace_ms: u64,
    /// The host runtime's worker threads (0: one per core, as in the app).
    pub host_workers: usize,
}

/// p50 and p99 (nearest rank) of round trips, in ms.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    fn of(samples: &[f64]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Latency {
            n: sorted.len(),
            p50: nearest_rank(&sorted, 0.5),
            p99: nearest_rank(&sorted, 0.99),
            max: sorted.last().copied().unwrap_or(0.0),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Probes {
    /// `GET /v1/tasks?limit=50`.
    pub list: Latency,
    /// `GET /v1/tasks/{id}`.
    pub get: Latency,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Probes {
    fn of(p: &Probed) -> Self {
        Probes::when(p, |_| true)
    }

    /// The samples sent while the burst was (or was not) being sent; errors are not split.
    fn when(p: &Probed, keep: impl Fn(bool) -> bool) -> Self {
        let pick = |samples: &[(bool, f64)]| -> Vec<f64> {
            samples
                .iter()
                .filter(|(burst, _)| keep(*burst))
                .map(|&(_, ms)| ms)
                .collect()
        };
        Probes {
            list: Latency::of(&pick(&p.list_ms)),
            get: Latency::of(&pick(&p.get_ms)),
            errors: p.errors,
            first_error: p.first_error.clone(),
        }
    }
}

/// Load over idle.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Ratios {
    pub list_p50: f64,
    pub list_p99: f64,
    pub get_p50: f64,
    pub get_p99: f64,
}

impl Ratios {
    fn of(load: &Probes, idle: &Probes) -> Self {
        let r = |a: f64, b: f64| a / b.max(1e-6);
        Ratios {
            list_p50: r(load.list.p50, idle.list.p50),
            list_p99: r(load.list.p99, idle.list.p99),
            get_p50: r(load.get.p50, idle.get.p50),
            get_p99: r(load.get.p99, idle.get.p99),
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct BurstReport {
    /// First spawn sent to last answer.
    pub accept_s: f64,
    /// `POST /v1/tasks` round trips.
    pub post_ms: Latency,
    /// The same for the first and the last tenth of the spawns sent (the queue is short,
    /// then long).
    pub post_first_ms: Latency,
    pub post_last_ms: Latency,
    pub accepted: usize,
    /// Answered `queued`, and answered `pending` (started at once).
    pub queued_at_spawn: usize,
    pub started_at_spawn: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// First spawn sent to the end of the last task.
    pub drain_s: f64,
    pub drained: bool,
    /// Tasks ended per second over `drain_s`.
    pub tasks_per_s: f64,
    /// The burst's tasks by status, as `GET /v1/tasks` lists them at the end.
    pub api_statuses: BTreeMap<String, usize>,
    /// The longest queue the host saw.
    pub queue_peak: usize,
}

/// The burst's tasks as the host's supervisor has them at the end.
#[derive(Debug, Default, Serialize)]
pub struct TasksReport {
    pub total: usize,
    pub completed: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub active: usize,
    pub limit: usize,
    pub max_running_at_once: usize,
    pub fifo_violations: usize,
    /// Spawn to start (time in the queue), in ms.
    pub queue_wait_ms: Summary,
    /// Start to end, in ms.
    pub run_ms: Summary,
}

impl TasksReport {
    fn of(t: &TaskCheck) -> Self {
        TasksReport {
            total: t.total,
            completed: t.completed,
            failed: t.failed,
            cancelled: t.cancelled,
            active: t.active,
            limit: t.limit,
            max_running_at_once: t.max_running_at_once,
            fifo_violations: t.fifo_violations,
            queue_wait_ms: Summary::of(&t.queue_wait_ms),
            run_ms: Summary::of(&t.run_ms),
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct SseReport {
    pub clients: usize,
    pub connected: usize,
    pub connect_ms: f64,
    /// Followers that saw the finish event of every task of the burst.
    pub saw_every_finish: usize,
    /// Followers that missed finishes but were told so by a `resync` (by design).
    pub missed_with_resync: usize,
    /// Followers that missed finishes without a `resync`: lost events.
    pub missed_without_resync: usize,
    /// Finish events missed, over all followers.
    pub finishes_missed: usize,
    pub resyncs: u64,
    pub skipped: u64,
    pub events_per_client: Summary,
    /// Followers that had not reached the sentinel when the wait ended.
    pub stuck: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// Sentinel removed to the last follower reaching it.
    pub catch_up_ms: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub prompt: &'static str,
    pub clients: usize,
    pub tasks: usize,
    pub projects: usize,
    pub senders: usize,
    /// 0: one per core.
    pub host_workers: usize,
    pub seed_tasks: usize,
    pub idle: Probes,
    /// Idle but for the followers, connected before the burst.
    pub clients_idle: Probes,
    pub load: Probes,
    /// The part of `load` while the burst was being sent.
    pub load_during_burst: Probes,
    /// The rest of `load`: the queue drains, no more spawns come.
    pub load_during_drain: Probes,
    /// Idle again after the load, with the burst's tasks in the history.
    pub after: Probes,
    /// `load` over `idle`.
    pub ratios: Ratios,
    /// `after` over `idle`.
    pub after_ratios: Ratios,
    /// Peak RSS of the host while idle (the baseline).
    pub rss_idle_kib: u64,
    /// Peak with the followers connected, before the burst.
    pub rss_clients_kib: u64,
    /// Peak from the burst to the followers' catch-up.
    pub rss_load_kib: u64,
    /// At the end of the `after` phase.
    pub rss_after_kib: u64,
    pub rss_ratio: f64,
    pub rss_after_ratio: f64,
    /// (`rss_after_kib` - `rss_idle_kib`) / tasks: what each finished task keeps.
    pub rss_kept_per_task_kib: f64,
    pub rss_phases: Vec<(String, PhaseRss)>,
    pub hwm_kib: Option<u64>,
    pub burst: BurstReport,
    pub host_tasks: TasksReport,
    pub sse: SseReport,
    pub leftovers_before_shutdown: usize,
    /// Processes with the host's marker once it exited (killed when found).
    pub leftovers_after_exit: usize,
    pub server_stop_ms: f64,
    pub shutdown_ms: f64,
    pub host_exit_ok: bool,
    pub wall_s: f64,
    /// No time budget: everything accepted, completed, in order, seen, and cleaned up.
    pub within_budget: bool,
}

pub async fn run(p: Params) -> Result<Report> {
    let start = Instant::now();
    let mut host = Host::start(&p)?;
    let ready: Ready = serde_json::from_str(&host.expect("ready").await?)?;
    let driven = drive(&mut host, &ready, &p).await;
    // Whatever happened, the host checks, stops and cleans up.
    let finished = host.finish().await;
    let host_exit_ok = host.exit().await;
    let leftovers = marked_with_prefix(&ready.marker_prefix);
    if !leftovers.is_empty() {
        eprintln!("api load: the host left {leftovers:?}; killing them");
        supervisor::procfs::signal_all(&leftovers, nix::sys::signal::Signal::SIGKILL);
    }
    let mut report = driven?;
    let host_report = finished?;
    report.host_exit_ok = host_exit_ok;
    report.leftovers_after_exit = leftovers.len();
    report.wall_s = start.elapsed().as_secs_f64();
    apply_host(&mut report, &host_report);
    report.within_budget = correct(&report, &p);
    Ok(report)
}

/// Everything over the socket; the host's figures are added afterwards.
async fn drive(host: &mut Host, ready: &Ready, p: &Params) -> Result<Report> {
    let client = Client::new(&ready.socket);
    let seeds = seed(&client, &ready.seed_projects, p.seed.max(2)).await?;
    let (sentinel, targets) = (seeds[0], seeds[1..].to_vec());

    host.phase("idle").await?;
    let idle = Prober::start(client.clone(), targets.clone(), Some(p.requests))
        .wait()
        .await?;

    host.phase("connect").await?;
    let followers = Followers::connect(&client, p.clients, sentinel, SETUP_TIMEOUT).await;
    host.phase("clients").await?;
    let clients_idle = Prober::start(client.clone(), targets.clone(), Some(p.requests / 2))
        .wait()
        .await?;

    host.phase("load").await?;
    let prober = Prober::start(client.clone(), targets.clone(), None);
    prober.burst(true);
    let started = Instant::now();
    let mut burst = burst(&client, &ready.projects, p).await;
    prober.burst(false);
    drain(&client, &mut burst, started).await;
    let load = prober.finish().await?;

    host.phase("catch-up").await?;
    let removed = Instant::now();
    let uri = format!("/v1/tasks/{sentinel}");
    client.request(http::Method::DELETE, &uri, None).await?;
    let connected = followers.connected;
    let connect_ms = followers.connect_ms;
    let followed = followers.finish(CATCH_UP_TIMEOUT).await;
    let catch_up_ms = ms(removed.elapsed());

    host.phase("after").await?;
    let after = Prober::start(client.clone(), targets, Some(p.requests))
        .wait()
        .await?;

    let (idle, load_all) = (Probes::of(&idle), Probes::of(&load));
    let after = Probes::of(&after);
    let mut sse = sse_report(&followed, &burst.ids);
    sse.clients = p.clients;
    sse.connected = connected;
    sse.connect_ms = connect_ms;
    sse.catch_up_ms = catch_up_ms;
    Ok(Report {
        prompt: PROMPT,
        clients: p.clients,
        tasks: p.tasks,
        projects: p.projects,
        senders: p.senders,
        host_workers: p.host_workers,
        seed_tasks: seeds.len(),
        ratios: Ratios::of(&load_all, &idle),
        after_ratios: Ratios::of(&after, &idle),
        idle,
        clients_idle: Probes::of(&clients_idle),
        load: load_all,
        load_during_burst: Probes::when(&load, |burst| burst),
        load_during_drain: Probes::when(&load, |burst| !burst),
        after,
        burst: burst.report,
        sse,
        ..Report::default()
    })
}

/// Spawns `n` tasks over the seed projects and waits for them all to complete.
async fn seed(client: &Client, projects: &[PathBuf], n: usize) -> Result<Vec<u64>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({
            "name": format!("seed {i}"),
            "prompt": PROMPT,
            "project_dir": projects[i % projects.len()],
            "queue": true,
        });
        let record = client.post("/v1/tasks", &body).await?;
        ids.push(record["id"].as_u64().ok_or("a spawn without an id")?);
    }
    for &id in &ids {
        let uri = format!("/v1/tasks/{id}/wait");
        let record = tokio::time::timeout(SETUP_TIMEOUT, client.get(&uri))
            .await
            .map_err(|_| format!("seed task {id} did not end within {SETUP_TIMEOUT:?}"))??;
        if record["status"] != "completed" {
            return Err(format!("seed task {id} ended {}", record["status"]).into());
        }
    }
    Ok(ids)
}

/// The burst as the driver saw it.
#[derive(Debug, Default)]
struct Burst {
    /// The accepted tasks and their project's index.
    ids: Vec<(u64, usize)>,
    report: BurstReport,
}

/// `p.tasks` spawns, `p.senders` at a time, round robin over the projects.
async fn burst(client: &Client, projects: &[PathBuf], p: &Params) -> Burst {
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let projects = Arc::new(projects.to_vec());
    let mut senders = JoinSet::new();
    for _ in 0..p.senders.max(1) {
        let (client, next, projects, tasks) =
            (client.clone(), next.clone(), projects.clone(), p.tasks);
        senders.spawn(async move {
            let mut sent = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tasks {
                    return sent;
                }
                let project = i % projects.len();
                let body = json!({
                    "name": format!("load {i}"),
                    "prompt": PROMPT,
                    "project_dir": projects[project],
                    "queue": true,
                });
                let t = Instant::now();
                let reply = client.post("/v1/tasks", &body).await;
                let reply = reply.map_err(|e| e.to_string());
                sent.push((i, project, ms(t.elapsed()), reply));
            }
        });
    }
    let mut out = Burst::default();
    let mut post_ms = Vec::with_capacity(p.tasks);
    while let Some(joined) = senders.join_next().await {
        let Ok(sent) = joined else {
            out.report.errors += 1;
            continue;
        };
        for (i, project, took, reply) in sent {
            post_ms.push((i, took));
            match reply.map(|r| (r["id"].as_u64(), r["status"].clone())) {
                Ok((Some(id), status)) => {
                    out.ids.push((id, project));
                    match status.as_str() {
                        Some("queued") => out.report.queued_at_spawn += 1,
                        _ => out.report.started_at_spawn += 1,
                    }
                }
                Ok((None, _)) => note(&mut out.report, "a spawn answered without an id".into()),
                Err(e) => note(&mut out.report, format!("POST /v1/tasks: {e}")),
            }
        }
    }
    out.ids.sort_unstable();
    out.report.accepted = out.ids.len();
    out.report.accept_s = start.elapsed().as_secs_f64();
    post_ms.sort_by_key(|&(i, _)| i);
    let times: Vec<f64> = post_ms.iter().map(|&(_, took)| took).collect();
    let tenth = (times.len() / 10).max(1).min(times.len());
    out.report.post_ms = Latency::of(&times);
    out.report.post_first_ms = Latency::of(&times[..tenth]);
    out.report.post_last_ms = Latency::of(&times[times.len() - tenth..]);
    out
}

fn note(report: &mut BurstReport, error: String) {
    report.errors += 1;
    report.first_error.get_or_insert(error);
}

/// Waits for the burst's tasks to end: the newest of each project first (each project starts
/// its tasks first in, first out), then any still active.
async fn drain(client: &Client, burst: &mut Burst, started: Instant) {
    let deadline = tokio::time::Instant::from_std(started) + DRAIN_TIMEOUT;
    let mut newest: BTreeMap<usize, u64> = BTreeMap::new();
    for &(id, project) in &burst.ids {
        newest.insert(project, id);
    }
    let wait_all = |ids: Vec<u64>| {
        let mut waits = JoinSet::new();
        for id in ids {
            let client = client.clone();
            waits.spawn(async move { client.get(&format!("/v1/tasks/{id}/wait")).await });
        }
        async move {
            let mut failed = Vec::new();
            while let Some(joined) = waits.join_next().await {
                if let Ok(Err(e)) = joined {
                    failed.push(e.to_string());
                }
            }
            failed
        }
    };
    let mut drained =
        tokio::time::timeout_at(deadline, wait_all(newest.into_values().collect())).await;
    let mut statuses = statuses(client, &burst.ids).await;
    let active: Vec<u64> = statuses
        .iter()
        .filter(|(_, s)| matches!(s.as_str(), "queued" | "pending" | "running" | "waiting"))
        .map(|(&id, _)| id)
        .collect();
    if !active.is_empty() && drained.is_ok() {
        eprintln!(
            "api load: {} tasks still active after the newest of each project ended",
            active.len()
        );
        drained = tokio::time::timeout_at(deadline, wait_all(active)).await;
        statuses = statuses_again(client, &burst.ids, statuses).await;
    }
    let report = &mut burst.report;
    report.drain_s = started.elapsed().as_secs_f64();
    report.drained = matches!(&drained, Ok(failed) if failed.is_empty());
    if let Ok(failed) = &drained {
        if let Some(first) = failed.first() {
            note(report, format!("GET /v1/tasks/{{id}}/wait: {first}"));
        }
    }
    report.tasks_per_s = burst.ids.len() as f64 / report.drain_s.max(1e-3);
    for status in statuses.values() {
        *report.api_statuses.entry(status.clone()).or_default() += 1;
    }
}

async fn statuses_again(
    client: &Client,
    ids: &[(u64, usize)],
    before: HashMap<u64, String>,
) -> HashMap<u64, String> {
    let now = statuses(client, ids).await;
    if now.is_empty() {
        before
    } else {
        now
    }
}

/// The statuses of the burst's tasks, from `GET /v1/tasks` pages (newest first).
async fn statuses(client: &Client, ids: &[(u64, usize)]) -> HashMap<u64, String> {
    let wanted: std::collections::HashSet<u64> = ids.iter().map(|&(id, _)| id).collect();
    let mut found = HashMap::new();
    let mut uri = "/v1/tasks?limit=1000".to_owned();
    while found.len() < wanted.len() {
        let Ok(page) = client.get(&uri).await else {
            break;
        };
        for task in page["tasks"].as_array().into_iter().flatten() {
            if let (Some(id), Some(status)) = (task["id"].as_u64(), task["status"].as_str()) {
                if wanted.contains(&id) {
                    found.insert(id, status.to_owned());
                }
            }
        }
        match page["next_cursor"].as_u64() {
            Some(cursor) => uri = format!("/v1/tasks?limit=1000&cursor={cursor}"),
            None => break,
        }
    }
    found
}

fn sse_report(followed: &[Followed], ids: &[(u64, usize)]) -> SseReport {
    let mut r = SseReport::default();
    let mut events = Vec::with_capacity(followed.len());
    for f in followed {
        let missed = ids
            .iter()
            .filter(|(id, _)| !f.finished.contains(id))
            .count();
        r.finishes_missed += missed;
        match (missed, f.resyncs) {
            (0, _) => r.saw_every_finish += 1,
            (_, 0) => r.missed_without_resync += 1,
            _ => r.missed_with_resync += 1,
        }
        r.resyncs += f.resyncs;
        r.skipped += f.skipped;
        events.push(f.events as f64);
        if let Some(e) = &f.error {
            r.errors += 1;
            r.first_error.get_or_insert(e.clone());
        } else if !f.saw_sentinel {
            r.stuck += 1;
        }
    }
    r.events_per_client = Summary::of(&events);
    r
}

fn apply_host(r: &mut Report, h: &HostReport) {
    let peak = |names: &[&str]| {
        h.rss
            .iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .map(|(_, p)| p.peak_kib)
            .max()
            .unwrap_or(0)
    };
    r.rss_idle_kib = peak(&["idle"]);
    r.rss_clients_kib = peak(&["connect", "clients"]);
    r.rss_load_kib = peak(&["load", "catch-up"]);
    r.rss_after_kib = h
        .rss
        .iter()
        .find(|(name, _)| name == "after")
        .map_or(0, |(_, p)| p.end_kib);
    let ratio = |kib: u64| kib as f64 / (r.rss_idle_kib as f64).max(1.0);
    r.rss_ratio = ratio(r.rss_load_kib);
    r.rss_after_ratio = ratio(r.rss_after_kib);
    r.rss_kept_per_task_kib =
        r.rss_after_kib.saturating_sub(r.rss_idle_kib) as f64 / (r.tasks as f64).max(1.0);
    r.rss_phases = h.rss.clone();
    r.hwm_kib = h.hwm_kib;
    r.burst.queue_peak = h.rss.iter().map(|(_, p)| p.queue_peak).max().unwrap_or(0);
    r.host_tasks = TasksReport::of(&h.tasks);
    r.leftovers_before_shutdown = h.leftovers_before_shutdown;
    r.server_stop_ms = h.server_stop_ms;
    r.shutdown_ms = h.shutdown_ms;
}

fn correct(r: &Report, p: &Params) -> bool {
    let t = &r.host_tasks;
    let probes_ok = [&r.idle, &r.clients_idle, &r.load, &r.after]
        .iter()
        .all(|x| x.errors == 0);
    r.burst.accepted == p.tasks
        && r.burst.errors == 0
        && r.burst.drained
        && t.total == p.tasks
        && t.completed == p.tasks
        && t.max_running_at_once <= t.limit
        && t.fifo_violations == 0
        && probes_ok
        && r.sse.connected == p.clients
        && r.sse.missed_without_resync == 0
        && r.sse.stuck == 0
        && r.sse.errors == 0
        && r.leftovers_before_shutdown == 0
        && r.leftovers_after_exit == 0
        && r.host_exit_ok
}

/// The host process and its line protocol.
struct Host {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Host {
    fn start(p: &Params) -> Result<Self> {
        let params = HostParams {
            max_running: p.max_running,
            projects: p.projects.max(1),
            seed_projects: p.projects.clamp(1, 4),
            grace_ms: p.grace_ms,
            workers: p.host_workers,
        };
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--api-host")
            .arg(serde_json::to_string(&params)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin for the host")?;
        let stdout = child.stdout.take().ok_or("no stdout for the host")?;
        Ok(Host {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The rest of the host's next line that starts with `word`.
    async fn expect(&mut self, word: &str) -> Result<String> {
        let read = async {
            loop {
                let Some(line) = self.lines.next_line().await? else {
                    return Err(format!("the API host exited before saying {word:?}").into());
                };
                match line.strip_prefix(word) {
                    Some(rest) => return Ok(rest.trim().to_owned()),
                    None => eprintln!("api host: {line}"),
                }
            }
        };
        tokio::time::timeout(HOST_TIMEOUT, read)
            .await
            .map_err(|_| format!("the API host did not say {word:?} within {HOST_TIMEOUT:?}"))?
    }

    async fn send(&mut self, line: &str) -> Result<()> {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// Starts a phase of the host's RSS readings; returns once its first reading is taken.
    async fn phase(&mut self, name: &str) -> Result<()> {
        self.send(&format!("phase {name}")).await?;
        self.expect("ok").await.map(drop)
    }

    async fn finish(&mut self) -> Result<HostReport> {
        self.send("finish").await?;
        let result: Value = serde_json::from_str(&self.expect("result").await?)?;
        Ok(serde_json::from_value(result)?)
    }

    /// Waits for the host to exit (killing it after [`HOST_TIMEOUT`]); whether it exited 0.
    async fn exit(&mut self) -> bool {
        match tokio::time::timeout(HOST_TIMEOUT, self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = self.child.kill().await;
                false
            }
        }
    }
}
