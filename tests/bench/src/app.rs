//! Benchmark 8, the app itself in a private desktop: what an idle tray app holds, what its
//! window costs and gives back, how soon a window built on Show is ready, and how the app
//! starts with a long history.
//!
//! The release `tasktray` (built with `--features custom-protocol`, next to this binary) runs
//! under an Xvfb of its own, on a private D-Bus session bus with the end-to-end specs'
//! StatusNotifierWatcher stub (so its tray item registers, and `tray.py` clicks its menu as a
//! panel does); the window is closed as a window manager does it (`wm.py close`). Nothing of
//! the user's desktop, bus or data is used: every launch has a fresh HOME and runtime dir.
//!
//! Each launch starts the app `--hidden` on a history of none or `tasks` tasks (alternating):
//! - start-up: exec to the local API answering `GET /v1/version`, and to the tray item
//!   registered; the later of the two is the start-up time;
//! - PSS (`/proc/<pid>/smaps_rollup`) of the app and every descendant (WebKit's network and
//!   web processes), once it settles: hidden and idle, then for each Show/close cycle with the
//!   window shown and after it was closed again; and the CPU time of the idle app;
//! - Show to ready: the app's own log line `window ready N ms after Show` (the UI asks for its
//!   view once it has subscribed, loaded the list and painted two frames), and the same seen
//!   from here, from the click to that line.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use supervisor::{History, ResultSummary, TaskRecord, TaskStatus};

pub use crate::app_desktop::Tree;
use crate::app_desktop::{
    alive, cpu_percent, descendants, settle, wait_for, wait_value, web_processes, Desktop, POLL,
};
use crate::harness::{ms, sibling, Result, Summary};

/// Show to a ready window, median of the windows built again (docs/benchmarks.md, 8).
pub const READY_BUDGET_MS: f64 = 500.0;
/// Closing the window gives back at least this much of the anonymous memory showing it took.
/// (Anonymous: PSS's file part depends on what else maps the same libraries, and moves with
/// other processes on the machine during a run.)
pub const GIVEN_BACK_BUDGET: f64 = 2.0 / 3.0;

/// How long the app gets to start, and a window or process to follow a click.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const REACT_TIMEOUT: Duration = Duration::from_secs(20);
/// The window over which the idle app's CPU time is measured.
const CPU_WINDOW: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Tasks in the long history.
    pub tasks: usize,
    /// Launches on each history.
    pub reps: usize,
    /// Show/close cycles per launch.
    pub cycles: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub app: PathBuf,
    pub tasks: usize,
    /// Writing the long history through `History` (on tmpfs), then copying it to disk.
    pub history_write_s: f64,
    pub history_copy_s: f64,
    pub launches: Vec<Launch>,
    pub start_empty_ms: Summary,
    pub start_full_ms: Summary,
    /// Start-up with the long history over start-up with none.
    pub start_ratio: f64,
    pub hidden_empty_kib: Summary,
    pub hidden_full_kib: Summary,
    /// The baseline: a hidden start that builds its webview and keeps it hidden (as before).
    pub hidden_webview_kib: Summary,
    pub hidden_webview_anon_kib: Summary,
    /// Hidden now over hidden with a webview (no task in the history, both), of PSS and of
    /// anonymous memory (PSS shares library pages with whatever else maps them).
    pub hidden_ratio: f64,
    pub hidden_anon_ratio: f64,
    pub shown_kib: Summary,
    pub released_kib: Summary,
    /// Anonymous memory alone (heaps, JIT): not shared, so steadier across runs than PSS.
    pub hidden_anon_kib: Summary,
    pub shown_anon_kib: Summary,
    pub released_anon_kib: Summary,
    /// Shown over hidden (medians, every launch).
    pub shown_ratio: f64,
    /// Per cycle: (shown - closed) / (shown - hidden), of PSS and of anonymous memory.
    pub given_back: Summary,
    pub given_back_anon: Summary,
    /// Per cycle: closed - hidden (what a closed window still holds), KiB.
    pub kept_kib: Summary,
    /// The first window of a launch, and the windows built again after a close.
    pub ready_first_ms: Summary,
    pub ready_again_ms: Summary,
    pub click_to_ready_ms: Summary,
    /// Close to the web process gone.
    pub web_gone_ms: Summary,
    pub idle_cpu_percent: Summary,
    /// Every launch built no window while hidden, and left no process.
    pub hidden_builds_nothing: bool,
    pub leftovers: usize,
    pub within_budget: bool,
}

#[derive(Debug, Serialize)]
pub struct Launch {
    pub tasks: usize,
    /// Started with the webview built and hidden: what `--hidden` held before the window was
    /// built on demand (the switch tauri-driver sets makes the app build it; no cycles).
    pub hidden_webview: bool,
    pub api_ms: f64,
    pub tray_ms: f64,
    pub start_ms: f64,
    pub hidden: Tree,
    pub idle_cpu_percent: f64,
    pub cycles: Vec<Cycle>,
    pub quit_ms: f64,
    /// Processes of the app (WebKit's) still alive [`REACT_TIMEOUT`] after it quit.
    pub leftovers: usize,
}

#[derive(Debug, Serialize)]
pub struct Cycle {
    /// Show to ready, as the app measured it.
    pub ready_ms: f64,
    /// The click (`tray.py` run) to the app's ready line, seen from here.
    pub click_to_ready_ms: f64,
    pub shown: Tree,
    pub web_gone_ms: f64,
    pub released: Tree,
}

pub fn run(params: Params) -> Result<Report> {
    let app = app_bin()?;
    let scratch = tempfile::Builder::new()
        .prefix("tasktray-bench-app-")
        .tempdir()?;
    let empty = scratch.path().join("data-empty");
    History::open(&empty)?;
    let full = scratch.path().join("data-full");
    let (history_write_s, history_copy_s) = write_history(&full, params.tasks)?;
    let desktop = Desktop::start(scratch.path())?;

    let mut launches = Vec::new();
    for rep in 0..params.reps {
        for (data, tasks) in [(&empty, 0), (&full, params.tasks)] {
            crate::progress(&format!(
                "app: launch {} of {} on {tasks} tasks",
                rep + 1,
                params.reps
            ));
            launches.push(launch(&desktop, &app, data, tasks, params.cycles, false)?);
        }
        crate::progress("app: a hidden start that builds its webview, as before");
        launches.push(launch(&desktop, &app, &empty, 0, 0, true)?);
    }
    let leftovers = launches.iter().map(|l| l.leftovers).sum();
    drop(desktop);
    Ok(summarize(
        app,
        params.tasks,
        (history_write_s, history_copy_s),
        launches,
        leftovers,
    ))
}

fn summarize(
    app: PathBuf,
    tasks: usize,
    (history_write_s, history_copy_s): (f64, f64),
    launches: Vec<Launch>,
    leftovers: usize,
) -> Report {
    let (baseline, launches): (Vec<Launch>, Vec<Launch>) =
        launches.into_iter().partition(|l| l.hidden_webview);
    let baseline_of = |pick: &dyn Fn(&Tree) -> u64| {
        Summary::of(
            &baseline
                .iter()
                .map(|l| pick(&l.hidden) as f64)
                .collect::<Vec<_>>(),
        )
    };
    let hidden_webview_kib = baseline_of(&|t| t.pss_kib);
    let hidden_webview_anon_kib = baseline_of(&|t| t.pss_anon_kib);
    let of = |pick: &dyn Fn(&Launch) -> Option<f64>| {
        Summary::of(&launches.iter().filter_map(pick).collect::<Vec<_>>())
    };
    let cycles = |pick: &dyn Fn(usize, &Cycle) -> Option<f64>| {
        let all: Vec<f64> = launches
            .iter()
            .flat_map(|l| l.cycles.iter().enumerate().filter_map(|(i, c)| pick(i, c)))
            .collect();
        Summary::of(&all)
    };
    let per_cycle = |pick: &dyn Fn(&Tree, &Cycle) -> f64| {
        let all: Vec<f64> = launches
            .iter()
            .flat_map(|l| l.cycles.iter().map(|c| pick(&l.hidden, c)))
            .filter(|x| x.is_finite())
            .collect();
        Summary::of(&all)
    };
    let back = |hidden: u64, shown: u64, closed: u64| {
        (shown as f64 - closed as f64) / (shown as f64 - hidden as f64)
    };
    let given_back = per_cycle(&|h, c| back(h.pss_kib, c.shown.pss_kib, c.released.pss_kib));
    let given_back_anon = per_cycle(&|h, c| {
        back(
            h.pss_anon_kib,
            c.shown.pss_anon_kib,
            c.released.pss_anon_kib,
        )
    });
    let kept_kib = per_cycle(&|h, c| c.released.pss_kib as f64 - h.pss_kib as f64);
    let start_empty_ms = of(&|l| (l.tasks == 0).then_some(l.start_ms));
    let hidden_empty_kib = of(&|l| (l.tasks == 0).then_some(l.hidden.pss_kib as f64));
    let start_full_ms = of(&|l| (l.tasks > 0).then_some(l.start_ms));
    let hidden_all = of(&|l| Some(l.hidden.pss_kib as f64));
    let shown_kib = cycles(&|_, c| Some(c.shown.pss_kib as f64));
    let released_kib = cycles(&|_, c| Some(c.released.pss_kib as f64));
    let ready_again_ms = cycles(&|i, c| (i > 0).then_some(c.ready_ms));
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let hidden_builds_nothing = launches.iter().all(|l| {
        !l.hidden
            .processes
            .iter()
            .any(|(name, _)| name.starts_with("WebKit"))
    });
    let ready_judged = if ready_again_ms.n > 0 {
        ready_again_ms.median
    } else {
        cycles(&|_, c| Some(c.ready_ms)).median
    };
    let within_budget = ready_judged <= READY_BUDGET_MS
        && given_back_anon.median >= GIVEN_BACK_BUDGET
        && hidden_builds_nothing
        && leftovers == 0;
    Report {
        app,
        tasks,
        history_write_s,
        history_copy_s,
        start_ratio: ratio(start_full_ms.median, start_empty_ms.median),
        start_empty_ms,
        start_full_ms,
        hidden_ratio: ratio(hidden_empty_kib.median, hidden_webview_kib.median),
        hidden_anon_ratio: ratio(
            of(&|l| (l.tasks == 0).then_some(l.hidden.pss_anon_kib as f64)).median,
            hidden_webview_anon_kib.median,
        ),
        hidden_webview_kib,
        hidden_webview_anon_kib,
        hidden_empty_kib,
        hidden_full_kib: of(&|l| (l.tasks > 0).then_some(l.hidden.pss_kib as f64)),
        shown_ratio: ratio(shown_kib.median, hidden_all.median),
        hidden_anon_kib: of(&|l| Some(l.hidden.pss_anon_kib as f64)),
        shown_anon_kib: cycles(&|_, c| Some(c.shown.pss_anon_kib as f64)),
        released_anon_kib: cycles(&|_, c| Some(c.released.pss_anon_kib as f64)),
        given_back,
        given_back_anon,
        kept_kib,
        shown_kib,
        released_kib,
        ready_first_ms: cycles(&|i, c| (i == 0).then_some(c.ready_ms)),
        ready_again_ms,
        click_to_ready_ms: cycles(&|_, c| Some(c.click_to_ready_ms)),
        web_gone_ms: cycles(&|_, c| Some(c.web_gone_ms)),
        idle_cpu_percent: of(&|l| Some(l.idle_cpu_percent)),
        hidden_builds_nothing,
        leftovers,
        within_budget,
        launches: launches.into_iter().chain(baseline).collect(),
    }
}

/// The release app next to this binary.
fn app_bin() -> Result<PathBuf> {
    sibling(
        "tasktray",
        "`cargo build --release -p tasktray --features custom-protocol` (make bench does)",
    )
}

/// Writes `count` finished tasks through `History` (as hosts do: `allocate_id`, `save`, the
/// index with it) on tmpfs, where fsync costs nothing, then copies the data dir to `dir` on
/// disk. Returns both times in seconds.
fn write_history(dir: &Path, count: usize) -> Result<(f64, f64)> {
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("tasktray-bench-")
            .tempdir_in(shm)?
    } else {
        tempfile::Builder::new()
            .prefix("tasktray-bench-")
            .tempdir()?
    };
    let started = Instant::now();
    let history = History::open(tmp.path())?;
    for n in 0..count {
        let id = history.allocate_id()?;
        let at = 1_700_000_000_000 + n as u64 * 60_000;
        let status = if n % 10 == 9 {
            TaskStatus::Failed
        } else {
            TaskStatus::Completed
        };
        history.save(&TaskRecord {
            id,
            name: format!("Task {n}: tidy module {}", n % 97),
            prompt: format!("Refactor module {} and update its tests", n % 97),
            project_dir: PathBuf::from(format!("/home/user/src/project-{}", n % 13)),
            options: Default::default(),
            status,
            created_at_ms: at,
            started_at_ms: Some(at + 100),
            finished_at_ms: Some(at + 45_000),
            exit: None,
            error: None,
            failure: (status == TaskStatus::Failed).then(|| "The agent ended with 1.".into()),
            result: Some(ResultSummary {
                text: format!("Done: module {} is tidy, 12 tests pass.", n % 97),
                cost_usd: Some(0.0123),
                num_turns: Some(3),
                ..ResultSummary::default()
            }),
            session_id: None,
            follow_up_of: None,
            owner: None,
            shim: None,
            line_count: 40,
            worktree: None,
        })?;
    }
    drop(history);
    let write_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    copy_dir(tmp.path(), dir)?;
    Ok((write_s, started.elapsed().as_secs_f64()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// One launch: start-up, the hidden app, `cycles` Show/close cycles, Quit.
fn launch(
    desktop: &Desktop,
    app: &Path,
    data: &Path,
    tasks: usize,
    cycles: usize,
    hidden_webview: bool,
) -> Result<Launch> {
    let home = tempfile::Builder::new()
        .prefix("tasktray-bench-home-")
        .tempdir_in(&desktop.dir)?;
    let runtime = home.path().join("run");
    fs::create_dir_all(&runtime)?;
    fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700))?;
    let socket = runtime.join("tasktray/api.sock");
    // The app logs to stderr (and to a file in its HOME).
    let log = home.path().join("app.log");
    let output = fs::File::create(&log)?;
    let sni_offset = fs::metadata(&desktop.sni_record).map_or(0, |m| m.len());

    let mut command = Command::new(app);
    desktop.env(&mut command);
    command
        .arg("--hidden")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_CACHE_HOME", home.path().join(".cache"))
        .env("TMPDIR", home.path())
        .env("TASKTRAY_DATA_DIR", data)
        .env("TASKTRAY_AGENT", crate::harness::fake_claude()?)
        .env_remove("TAURI_WEBVIEW_AUTOMATION")
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output);
    if hidden_webview {
        command.env("TAURI_WEBVIEW_AUTOMATION", "true");
    }
    let exec = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id() as i32;
    let result = measure(
        desktop, pid, &exec, &socket, &log, sni_offset, tasks, cycles,
    );
    let helpers = descendants(pid);
    let quit = Instant::now();
    let quit_ok = desktop.tray_click("Quit Tasktray").is_ok()
        && wait_for(REACT_TIMEOUT, || child.try_wait().ok().flatten().is_some());
    if !quit_ok {
        let _ = child.kill();
    }
    let _ = child.wait();
    let quit_ms = ms(quit.elapsed());
    // WebKit's helpers end when the app does; wait for them before the next launch.
    let alive = || helpers.iter().filter(|&&p| alive(p)).count();
    wait_for(REACT_TIMEOUT, || alive() == 0);
    let mut launch = result?;
    launch.hidden_webview = hidden_webview;
    launch.quit_ms = quit_ms;
    launch.leftovers = alive();
    Ok(launch)
}

#[allow(clippy::too_many_arguments)]
fn measure(
    desktop: &Desktop,
    pid: i32,
    exec: &Instant,
    socket: &Path,
    log: &Path,
    sni_offset: u64,
    tasks: usize,
    cycles: usize,
) -> Result<Launch> {
    let (mut api_ms, mut tray_ms) = (None, None);
    let deadline = Instant::now() + START_TIMEOUT;
    while api_ms.is_none() || tray_ms.is_none() {
        if api_ms.is_none() && api_answers(socket) {
            api_ms = Some(ms(exec.elapsed()));
        }
        if tray_ms.is_none() && desktop.tray_registered_since(sni_offset) {
            tray_ms = Some(ms(exec.elapsed()));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the app did not start within {START_TIMEOUT:?} (API {api_ms:?}, tray \
                 {tray_ms:?}); see {}",
                log.display()
            )
            .into());
        }
        std::thread::sleep(POLL);
    }
    let (api_ms, tray_ms) = (api_ms.unwrap_or_default(), tray_ms.unwrap_or_default());
    let hidden = settle(pid);
    let idle_cpu_percent = cpu_percent(pid, CPU_WINDOW);

    let mut done = Vec::new();
    for _ in 0..cycles {
        let seen = ready_lines(log).len();
        let click = Instant::now();
        desktop.tray_click("Show Tasktray")?;
        let ready_ms = wait_value(REACT_TIMEOUT, || ready_lines(log).get(seen).copied())
            .ok_or("no `window ready` line after Show")?;
        let click_to_ready_ms = ms(click.elapsed());
        let shown = settle(pid);
        desktop.close_window()?;
        let closed = Instant::now();
        if !wait_for(REACT_TIMEOUT, || web_processes(pid) == 0) {
            return Err("the web process outlived the window".into());
        }
        let web_gone_ms = ms(closed.elapsed());
        let released = settle(pid);
        done.push(Cycle {
            ready_ms,
            click_to_ready_ms,
            shown,
            web_gone_ms,
            released,
        });
    }
    Ok(Launch {
        tasks,
        hidden_webview: false,
        api_ms,
        tray_ms,
        start_ms: api_ms.max(tray_ms),
        hidden,
        idle_cpu_percent,
        cycles: done,
        quit_ms: 0.0,
        leftovers: 0,
    })
}

/// Whether the local API answers `GET /v1/version` with 200.
fn api_answers(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /v1/version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// The N of each `window ready N ms after Show` line of the app's log, in order.
fn ready_lines(log: &Path) -> Vec<f64> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split("window ready ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_are_read_from_the_log() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = dir.path().join("app.log");
        fs::write(
            &log,
            "x INFO tasktray::lifecycle: window built in 40 ms\n\
             x INFO tasktray::lifecycle: window ready 312 ms after Show\n\
             x INFO tasktray::lifecycle: window ready 95 ms after Show\n",
        )
        .expect("write");
        assert_eq!(ready_lines(&log), [312.0, 95.0]);
    }
}
