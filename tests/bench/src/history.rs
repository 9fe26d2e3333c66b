//! Benchmark 7, a long history: listing, searching and starting with 20,000 tasks, against the
//! same with 100 (or none) in the same run.
//!
//! - `taskctl list --limit 20` and `taskctl list --limit 20 --search WORD`, the release binary
//!   timed from exec to exit, alternating the small and the large history;
//! - `Supervisor::start` (what a host does when it starts: the index brought up to date, the
//!   active tasks read) and the RSS it adds, on an empty and on the large history;
//! - the one-time indexing of a history written without an index (an older Tasktray), and, as
//!   the reference of what a list cost before the index, reading every `task.json`.
//!
//! The histories are written straight as task folders (the record format of `task.json`,
//! without the fsyncs a real save does, which would take minutes for 20,000), then opened
//! once, which indexes them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use supervisor::{
    AgentSearch, History, OutputFormat, ResultSummary, ShimProgram, Supervisor, SupervisorConfig,
    TaskId, TaskOptions, TaskRecord, TaskStatus,
};

use crate::harness::{ms, sibling, status_kib, Result, Summary};

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub small: usize,
    pub large: usize,
    pub runs: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub small_tasks: usize,
    pub large_tasks: usize,
    /// Opening the large history written without an index: every task indexed once.
    pub first_index_ms: f64,
    /// Reading every `task.json` of the large history (what listing cost before the index).
    pub load_all_ms: f64,
    pub list_small_ms: Summary,
    pub list_large_ms: Summary,
    pub list_ratio: f64,
    pub search_small_ms: Summary,
    pub search_large_ms: Summary,
    pub search_ratio: f64,
    /// How many tasks of the large history the search word matches.
    pub search_matches: u64,
    pub start_empty_ms: Summary,
    pub start_large_ms: Summary,
    pub start_ratio: f64,
    /// RSS a started supervisor adds, with no task and with the large history.
    pub start_empty_rss_kib: i64,
    pub start_large_rss_kib: i64,
    /// Tasks the supervisor of the large history holds in memory (the active ones).
    pub held_large: usize,
    pub within_budget: bool,
}

/// The list of a 200× longer history may take at most this many times as long.
pub const LIST_BUDGET_RATIO: f64 = 3.0;

/// The word one task in five has in its name and prompt.
const NEEDLE: &str = "zeppelin";

pub fn run(params: Params) -> Result<Report> {
    let taskctl = sibling("taskctl", "`cargo build --release -p taskctl`")?;
    let root = tempfile::Builder::new()
        .prefix("tasktray-bench-history")
        .tempdir()?;
    let small = root.path().join("small");
    let large = root.path().join("large");
    let empty = root.path().join("empty");
    let projects = root.path().join("projects");
    populate(&small, params.small, &projects)?;
    populate(&large, params.large, &projects)?;
    std::fs::create_dir_all(&empty)?;

    let started = Instant::now();
    History::open(&large)?;
    let first_index_ms = ms(started.elapsed());
    History::open(&small)?;
    let started = Instant::now();
    let all = History::open(&large)?.load_all();
    let load_all_ms = ms(started.elapsed());
    assert_eq!(
        all.len(),
        params.large,
        "every task of the large history loads"
    );
    drop(all);

    let home = root.path().join("home");
    std::fs::create_dir_all(&home)?;
    let list = |data: &Path, search: bool| -> Result<f64> {
        let mut cmd = Command::new(&taskctl);
        cmd.args(["list", "--limit", "20"])
            .env("TASKTRAY_DATA_DIR", data)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if search {
            cmd.args(["--search", NEEDLE]);
        }
        let started = Instant::now();
        let out = cmd.output()?;
        let took = ms(started.elapsed());
        let rows = String::from_utf8_lossy(&out.stdout).lines().count();
        if !out.status.success() || rows != 21 {
            return Err(format!(
                "taskctl list printed {rows} lines (status {:?}) for {}",
                out.status,
                data.display()
            )
            .into());
        }
        Ok(took)
    };
    let (mut list_small, mut list_large) = (Vec::new(), Vec::new());
    let (mut search_small, mut search_large) = (Vec::new(), Vec::new());
    // One warm-up each, then alternate, so drift hits both alike.
    list(&small, false)?;
    list(&large, false)?;
    for _ in 0..params.runs {
        list_small.push(list(&small, false)?);
        list_large.push(list(&large, false)?);
        search_small.push(list(&small, true)?);
        search_large.push(list(&large, true)?);
    }
    let search_matches = History::open(&large)?
        .list(&supervisor::TaskQuery {
            search: Some(NEEDLE.into()),
            limit: Some(1),
            ..Default::default()
        })?
        .total;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let start = |data: &Path| -> Result<(f64, i64, usize)> {
        let before = status_kib("VmRSS").unwrap_or(0) as i64;
        let config = SupervisorConfig::new(
            data.to_path_buf(),
            AgentSearch::default(),
            ShimProgram::current_exe()?,
        );
        let started = Instant::now();
        let sup = Supervisor::start(config, runtime.handle().clone())?;
        let took = ms(started.elapsed());
        let grown = status_kib("VmRSS").unwrap_or(0) as i64 - before;
        let held = sup.held();
        runtime.block_on(sup.shutdown(Duration::from_secs(5)));
        Ok((took, grown, held))
    };
    let (mut start_empty, mut start_large) = (Vec::new(), Vec::new());
    let (mut empty_rss, mut large_rss, mut held_large) = (0, 0, 0);
    for run in 0..params.runs.min(5) {
        let (took, rss, _) = start(&empty)?;
        start_empty.push(took);
        let (took_large, rss_large, held) = start(&large)?;
        start_large.push(took_large);
        if run == 0 {
            (empty_rss, large_rss, held_large) = (rss, rss_large, held);
        }
    }

    let list_small_ms = Summary::of(&list_small);
    let list_large_ms = Summary::of(&list_large);
    let search_small_ms = Summary::of(&search_small);
    let search_large_ms = Summary::of(&search_large);
    let start_empty_ms = Summary::of(&start_empty);
    let start_large_ms = Summary::of(&start_large);
    let list_ratio = list_large_ms.median / list_small_ms.median;
    Ok(Report {
        small_tasks: params.small,
        large_tasks: params.large,
        first_index_ms,
        load_all_ms,
        list_ratio,
        search_ratio: search_large_ms.median / search_small_ms.median,
        start_ratio: start_large_ms.median / start_empty_ms.median,
        list_small_ms,
        list_large_ms,
        search_small_ms,
        search_large_ms,
        search_matches,
        start_empty_ms,
        start_large_ms,
        start_empty_rss_kib: empty_rss,
        start_large_rss_kib: large_rss,
        held_large,
        within_budget: list_ratio <= LIST_BUDGET_RATIO,
    })
}

/// Writes a history of `count` finished tasks into `data` (no index: the first open makes
/// it), spread over 20 project folders under `projects`, with prompts and results of a
/// realistic size; one task in five has [`NEEDLE`] in its name and prompt.
pub fn populate(data: &Path, count: usize, projects: &Path) -> Result<()> {
    let tasks = data.join("tasks");
    std::fs::create_dir_all(&tasks)?;
    let started_at = 1_780_000_000_000u64;
    for n in 1..=count {
        let id = TaskId(n as u64);
        let project: PathBuf = projects.join(format!("project-{}", n % 20));
        let needle = if n % 5 == 0 { NEEDLE } else { "service" };
        let record = TaskRecord {
            id,
            name: format!("Fix issue {n} in the {needle} module"),
            prompt: format!(
                "Look at the failing test in the {needle} module and fix the cause, not the \
                 symptom. Keep the public API as it is, add a regression test, and explain in \
                 two sentences what was wrong. Task {n}. {}",
                "Context: the error shows up only under load. ".repeat(4)
            ),
            project_dir: project,
            options: TaskOptions {
                format: OutputFormat::StreamJson,
                ..TaskOptions::default()
            },
            status: if n % 10 == 0 {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            },
            created_at_ms: started_at + n as u64 * 60_000,
            started_at_ms: Some(started_at + n as u64 * 60_000 + 20),
            finished_at_ms: Some(started_at + n as u64 * 60_000 + 45_000),
            exit: None,
            error: None,
            failure: None,
            result: Some(ResultSummary {
                is_error: n % 10 == 0,
                subtype: "success".into(),
                text: format!(
                    "Fixed: the retry loop in task {n} did not reset its counter. {}",
                    "Added a regression test and ran the suite; all green. ".repeat(6)
                ),
                cost_usd: Some(0.0421),
                session_cost_usd: Some(0.0421),
                num_turns: Some(7),
                denied_tools: 0,
                duration_ms: Some(44_000),
                session_id: None,
            }),
            session_id: Some(format!("00000000-0000-4000-8000-{n:012}")),
            follow_up_of: None,
            owner: None,
            shim: None,
            line_count: 120,
            worktree: None,
        };
        let mut json = serde_json::to_value(&record)?;
        json["version"] = supervisor::FORMAT_VERSION.into();
        let dir = tasks.join(n.to_string());
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("task.json"), serde_json::to_vec_pretty(&json)?)?;
    }
    std::fs::write(data.join("next-id"), format!("{}\n", count + 1))?;
    Ok(())
}
