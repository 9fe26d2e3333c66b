//! What every benchmark shares: a supervisor on a temporary data dir (this binary as its shim,
//! `fake-claude` as its agent), temporary projects, the baseline agent command, statistics and
//! a few readings from `/proc`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;
use supervisor::{
    AgentSearch, Event, OutputFormat, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig,
    TaskId, TaskOptions,
};
use tempfile::TempDir;
use tokio::sync::broadcast;

/// The error type of the whole binary: anything goes, it ends up printed by `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, BoxError>;

/// How long a benchmark waits for an agent's first output before giving up.
pub const FIRST_OUTPUT_TIMEOUT: Duration = Duration::from_secs(20);

/// The agent binary: `fake-claude` next to this binary (`make bench` builds both).
pub fn fake_claude() -> Result<PathBuf> {
    sibling(
        "fake-claude",
        "`cargo build --release -p fake-claude -p tasktray-bench`",
    )
}

/// The workspace binary `name` next to this one; when it is not there, an error that says to
/// build it with `build`.
pub fn sibling(name: &str, build: &str) -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name(name);
    if !path.is_file() {
        return Err(format!("{} is missing: build it with {build}", path.display()).into());
    }
    Ok(path)
}

/// One supervisor on its own temporary data dir, with a folder for projects and scratch files.
/// Everything is deleted when it is dropped.
#[derive(Debug)]
pub struct Harness {
    pub sup: Supervisor,
    pub fake: PathBuf,
    pub config: SupervisorConfig,
    root: TempDir,
}

impl Harness {
    /// A supervisor with the default ring sizes and the given grace period.
    pub fn start(grace: Duration, runtime: &tokio::runtime::Handle) -> Result<Self> {
        let fake = fake_claude()?;
        let root = tempfile::Builder::new()
            .prefix("tasktray-bench-")
            .tempdir()?;
        std::fs::create_dir_all(root.path().join("projects"))?;
        std::fs::create_dir_all(root.path().join("scratch"))?;
        let mut config = SupervisorConfig::new(
            root.path().join("data"),
            AgentSearch {
                explicit: Some(fake.clone()),
                ..AgentSearch::default()
            },
            ShimProgram::current_exe()?,
        );
        config.grace = grace;
        // The benchmarks run as many tasks at once as they spawn (memory: 100); the API load
        // benchmark sets its own limit to exercise the queue.
        config.max_running = None;
        // As root the agent refuses bypassPermissions (the default) without it.
        config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
        let sup = Supervisor::start(config.clone(), runtime.clone())?;
        Ok(Harness {
            sup,
            fake,
            config,
            root,
        })
    }

    /// A new empty project folder.
    pub fn project(&self, name: &str) -> Result<PathBuf> {
        let dir = self.root.path().join("projects").join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// A folder for baseline output files.
    pub fn scratch(&self) -> PathBuf {
        self.root.path().join("scratch")
    }

    /// A task request for `prompt` in `project`, with the default options but `format`.
    pub fn request(&self, project: &Path, prompt: &str, format: OutputFormat) -> SpawnRequest {
        SpawnRequest {
            name: String::new(),
            prompt: prompt.to_owned(),
            project_dir: project.to_path_buf(),
            options: TaskOptions {
                format,
                ..TaskOptions::default()
            },
            follow_up_of: None,
            queue: false,
        }
    }

    /// The baseline: the agent started directly, with stdin and stderr on `/dev/null`.
    pub fn raw_agent(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.fake);
        command
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Forgets a finished task and deletes its transcript, so big runs do not fill the disk.
    pub fn forget(&self, id: TaskId) {
        if let Some(record) = self.sup.get(id) {
            let _ = std::fs::remove_file(supervisor::report::transcript_path(&record));
        }
        let _ = self.sup.cleanup(id);
    }

    /// Live processes that still carry the task's marker.
    pub fn leftovers(&self, id: TaskId) -> Vec<i32> {
        supervisor::procfs::marked(supervisor::MARKER_ENV, &self.sup.marker(id))
    }
}

/// Waits for the first output line of `id` that contains `needle` (any line when empty).
pub async fn first_output(
    events: &mut broadcast::Receiver<Event>,
    id: TaskId,
    needle: &str,
) -> Result<()> {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(Event::Output { task, lines })
                    if task == id && lines.iter().any(|l| l.text.contains(needle)) =>
                {
                    return Ok(());
                }
                Ok(event) if event.task() == id && event.is_finish() => {
                    return Err(format!("task {id} ended before printing {needle:?}").into());
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    return Err("the supervisor's event stream closed".into());
                }
            }
        }
    };
    tokio::time::timeout(FIRST_OUTPUT_TIMEOUT, wait)
        .await
        .map_err(|_| format!("task {id} printed no {needle:?} within {FIRST_OUTPUT_TIMEOUT:?}"))?
}

/// Order statistics of a set of samples (milliseconds or seconds, as the field says).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            n: sorted.len(),
            min: sorted.first().copied().unwrap_or(0.0),
            median: median(&sorted),
            p90: nearest_rank(&sorted, 0.9),
            max: sorted.last().copied().unwrap_or(0.0),
        }
    }
}

/// The median of sorted samples (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The nearest-rank percentile `q` (0..=1) of sorted samples.
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Newlines and bytes in a file.
pub fn count_lines(path: &Path) -> Result<(u64, u64)> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((lines, bytes));
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Live processes (zombies aside) whose environment has [`supervisor::MARKER_ENV`] set to a
/// value that starts with `prefix`: with `<instance>:`, every process of every task of one
/// supervisor, wherever it was reparented.
pub fn marked_with_prefix(prefix: &str) -> Vec<i32> {
    let entry = format!("{}={prefix}", supervisor::MARKER_ENV);
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|&b| b == 0)
                    .any(|var| var.starts_with(entry.as_bytes()))
            })
        })
        .filter(|&pid| supervisor::procfs::stat(pid).is_some_and(|s| s.state != b'Z'))
        .collect()
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+); returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The machine the figures come from.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: Option<String>,
    pub kernel: Option<String>,
    pub mem_total_kib: Option<u64>,
}

impl Machine {
    pub fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_kib = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
        Machine {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned()),
            mem_total_kib,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics() {
        let s = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!((s.min, s.max, s.median, s.p90), (1.0, 10.0, 5.5, 9.0));
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).median, 2.0);
        assert_eq!(Summary::of(&[]).n, 0);
    }
}
