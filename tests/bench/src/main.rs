//! # tasktray-bench: the benchmarks behind `make bench`
//!
//! Measures the supervisor against the performance budget of docs/design.md, each item as a ratio or
//! difference against a baseline run in the same process (the machine is shared and noisy, so
//! absolute times mean little):
//!
//! 1. [`ingest`]: one flooding task, against `fake-claude > file`;
//! 2. [`spawn_latency`]: spawn to first output line, against a raw spawn of the agent;
//! 3. [`cancel`]: cancel to tree gone, for trees that honour and that ignore SIGTERM;
//! 4. [`memory`]: RSS of 100 concurrent chatty tasks against 100 × the ring size;
//! 6. [`api_load`]: the local API's latency and the host's RSS with 100 event-stream clients and
//!    a burst of 1,000 queued spawns, against the same while idle (5 is the UI's, `ui/bench`);
//! 7. [`history`]: `taskctl list` and a host's start with 20,000 tasks in the history, against
//!    100 (or none);
//! 10. [`taskctl_run`]: a whole `taskctl run` of a flooding agent, against `agent > file`;
//! 8. [`app`]: the release app in a private desktop: its memory (and its WebKit processes')
//!    hidden, shown and closed again, Show to a ready window, start-up with 20,000 tasks
//!    against none.
//!
//! The binary is also its own shim (as the app is): `main` first hands over to
//! [`supervisor::shim::run_if_invoked`]. With `--api-host` it is the host process of
//! [`api_load`] ([`api_host`]). The agent is `fake-claude` from the same target dir.
//! Everything happens in temporary directories. A table goes to stdout, the raw numbers to
//! `<target>/bench/results.json` (or `--out`). See `docs/benchmarks.md`.

mod api_clients;
mod api_host;
mod api_load;
mod app;
mod app_desktop;
mod cancel;
mod harness;
mod history;
mod ingest;
mod memory;
mod report;
mod spawn_latency;
mod taskctl_run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use supervisor::Clock;

use crate::harness::{Harness, Machine, Result};
use crate::report::Results;

/// Time given to a supervisor to stop its tasks once its benchmark is over.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

#[derive(Debug, Parser)]
#[command(
    name = "tasktray-bench",
    about = "Tasktray's performance benchmarks, each against a baseline measured in the same run"
)]
struct Args {
    /// Where to write the JSON results [default: <target dir>/bench/results.json].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Benchmarks to run.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ingest,spawn,cancel,memory,api,history,app,run"
    )]
    only: Vec<Item>,
    /// Exit with status 1 when an item is over budget.
    #[arg(long)]
    strict: bool,
    /// Ingest: lines the flooding task prints.
    #[arg(long, default_value_t = 1_000_000)]
    ingest_lines: u64,
    /// Ingest: bytes per line (without the newline).
    #[arg(long, default_value_t = 120)]
    ingest_line_bytes: usize,
    /// Ingest: repetitions of each side; the median is reported.
    #[arg(long, default_value_t = 3)]
    ingest_reps: usize,
    /// Ingest: skip the extra runs with a subscriber draining the event stream.
    #[arg(long)]
    ingest_no_subscriber: bool,
    /// Spawn latency: runs of each side (after one warm-up run).
    #[arg(long, default_value_t = 20)]
    spawn_runs: usize,
    /// Cancel: runs of each case.
    #[arg(long, default_value_t = 10)]
    cancel_runs: usize,
    /// Cancel: the SIGTERM-to-SIGKILL grace period, in ms.
    #[arg(long, default_value_t = 500)]
    grace_ms: u64,
    /// Memory: concurrent tasks.
    #[arg(long, default_value_t = 100)]
    memory_tasks: usize,
    /// Memory: lines each task floods.
    #[arg(long, default_value_t = 20_000)]
    memory_lines: u64,
    /// Memory: bytes per flooded line.
    #[arg(long, default_value_t = 200)]
    memory_line_bytes: usize,
    /// Memory: seconds each task sleeps after its flood.
    #[arg(long, default_value_t = 1.0)]
    memory_sleep_s: f64,
    /// API load: clients following `GET /v1/events` during the burst.
    #[arg(long, default_value_t = 100)]
    api_clients: usize,
    /// API load: tasks spawned through the API in the burst (`fake: say hi`, `queue: true`).
    #[arg(long, default_value_t = 1000)]
    api_tasks: usize,
    /// API load: projects the burst is spread over.
    #[arg(long, default_value_t = 8)]
    api_projects: usize,
    /// API load: the host's running limit.
    #[arg(long, default_value_t = 4)]
    api_max_running: usize,
    /// API load: spawn requests in flight at once.
    #[arg(long, default_value_t = 8)]
    api_senders: usize,
    /// API load: latency probes in each idle phase (half list, half get).
    #[arg(long, default_value_t = 400)]
    api_requests: usize,
    /// API load: tasks run before the idle phase (the probes read them).
    #[arg(long, default_value_t = 50)]
    api_seed: usize,
    /// API load: the host runtime's worker threads; 0 for one per core, as in the app.
    #[arg(long, default_value_t = 0)]
    api_host_workers: usize,
    /// Run: repetitions of each side of a whole `taskctl run`; the median is reported.
    #[arg(long, default_value_t = 3)]
    run_reps: usize,
    /// History: tasks in the small history.
    #[arg(long, default_value_t = 100)]
    history_small: usize,
    /// History: tasks in the large history.
    #[arg(long, default_value_t = 20_000)]
    history_large: usize,
    /// History: timed runs of each `taskctl list` (and up to 5 starts of each host).
    #[arg(long, default_value_t = 15)]
    history_runs: usize,
    /// App: tasks in the long history it starts with.
    #[arg(long, default_value_t = 20_000)]
    app_tasks: usize,
    /// App: launches on each history (none, and the long one), alternating.
    #[arg(long, default_value_t = 2)]
    app_reps: usize,
    /// App: Show/close cycles of the window per launch.
    #[arg(long, default_value_t = 3)]
    app_cycles: usize,
    /// Internal: run as the API load benchmark's host process, with these JSON parameters.
    #[arg(long, hide = true)]
    api_host: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Item {
    Ingest,
    Spawn,
    Cancel,
    Memory,
    Api,
    History,
    App,
    Run,
}

fn main() -> ExitCode {
    supervisor::shim::run_if_invoked();
    let args = Args::parse();
    if let Some(params) = &args.api_host {
        return api_host::main(params);
    }
    match run(&args) {
        Ok(within) if within || !args.strict => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tasktray-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen benchmarks; returns whether all are within budget.
fn run(args: &Args) -> Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let grace = Duration::from_millis(args.grace_ms);
    let mut results = Results {
        date: supervisor::report::timestamp(supervisor::SystemClock.now_ms()),
        machine: Machine::probe(),
        ingest: None,
        spawn_latency: None,
        cancel: None,
        memory: None,
        api_load: None,
        history: None,
        app: None,
        taskctl_run: None,
        within_budget: false,
    };
    // Memory first, while the heap is fresh: the other items leave freed memory behind that
    // the allocator would reuse and so hide from an RSS delta.
    if args.only.contains(&Item::Memory) {
        progress(&format!("memory: {} concurrent tasks", args.memory_tasks));
        let params = memory::Params {
            tasks: args.memory_tasks,
            lines: args.memory_lines,
            line_bytes: args.memory_line_bytes,
            sleep_s: args.memory_sleep_s,
        };
        results.memory = Some(
            runtime.block_on(with_harness(&handle, grace, |h| async move {
                memory::run(&h, params).await
            }))?,
        );
    }
    if args.only.contains(&Item::Spawn) {
        progress(&format!("spawn latency: {} runs each", args.spawn_runs));
        let runs = args.spawn_runs;
        results.spawn_latency = Some(runtime.block_on(with_harness(
            &handle,
            grace,
            |h| async move { spawn_latency::run(&h, runs).await },
        ))?);
    }
    if args.only.contains(&Item::Cancel) {
        progress(&format!("cancel: {} runs per case", args.cancel_runs));
        let runs = args.cancel_runs;
        results.cancel = Some(
            runtime.block_on(with_harness(&handle, grace, |h| async move {
                cancel::run(&h, runs).await
            }))?,
        );
    }
    if args.only.contains(&Item::Ingest) {
        progress(&format!("ingest: {} reps", args.ingest_reps));
        let params = ingest::Params {
            lines: args.ingest_lines,
            line_bytes: args.ingest_line_bytes,
            reps: args.ingest_reps,
            subscribed: !args.ingest_no_subscriber,
        };
        results.ingest = Some(
            runtime.block_on(with_harness(&handle, grace, |h| async move {
                ingest::run(&h, params).await
            }))?,
        );
    }
    // Last: its host is a process of its own, and its clients leave memory in this one.
    if args.only.contains(&Item::Api) {
        progress(&format!(
            "api load: {} event clients, {} queued spawns",
            args.api_clients, args.api_tasks
        ));
        let params = api_load::Params {
            clients: args.api_clients,
            tasks: args.api_tasks,
            projects: args.api_projects,
            max_running: args.api_max_running,
            senders: args.api_senders,
            requests: args.api_requests,
            seed: args.api_seed,
            grace_ms: args.grace_ms,
            host_workers: args.api_host_workers,
        };
        results.api_load = Some(runtime.block_on(api_load::run(params))?);
    }
    if args.only.contains(&Item::Run) {
        progress(&format!("a whole taskctl run: {} reps", args.run_reps));
        results.taskctl_run = Some(taskctl_run::run(taskctl_run::Params {
            reps: args.run_reps,
        })?);
    }
    if args.only.contains(&Item::History) {
        progress(&format!(
            "history: {} against {} tasks",
            args.history_large, args.history_small
        ));
        results.history = Some(history::run(history::Params {
            small: args.history_small,
            large: args.history_large,
            runs: args.history_runs,
        })?);
    }
    // The app runs in processes of its own, in a private desktop.
    if args.only.contains(&Item::App) {
        progress(&format!(
            "app: {} launches on none and on {} tasks, {} window cycles each",
            args.app_reps, args.app_tasks, args.app_cycles
        ));
        results.app = Some(app::run(app::Params {
            tasks: args.app_tasks,
            reps: args.app_reps,
            cycles: args.app_cycles,
        })?);
    }
    results.within_budget = results.all_within_budget();
    print!("{}", report::table(&results));
    let out = match &args.out {
        Some(out) => out.clone(),
        None => default_out()?,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("results: {}", out.display());
    Ok(results.within_budget)
}

/// Runs one benchmark on a fresh supervisor, then shuts it down (its temp dirs go with it).
async fn with_harness<T, F, Fut>(
    handle: &tokio::runtime::Handle,
    grace: Duration,
    bench: F,
) -> Result<T>
where
    F: FnOnce(std::sync::Arc<Harness>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let harness = std::sync::Arc::new(Harness::start(grace, handle)?);
    let result = bench(harness.clone()).await;
    harness.sup.shutdown(SHUTDOWN_DEADLINE).await;
    result
}

/// `<target>/bench/results.json`, the target dir being the one this binary was built in.
fn default_out() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(std::path::Path::parent)
        .ok_or("the bench binary is not in <target>/<profile>/")?;
    Ok(target.join("bench").join("results.json"))
}

fn progress(what: &str) {
    eprintln!("tasktray-bench: {what}...");
}
