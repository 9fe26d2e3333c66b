//! What a [`Supervisor`](crate::Supervisor) is given: where to keep things, which agent to run,
//! how to start the shim, the bounds, and the clock. Nothing here has a default path.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::agent::AgentSearch;
use crate::framer::DEFAULT_MAX_LINE_BYTES;
use crate::ring::{DEFAULT_RING_BYTES, DEFAULT_RING_LINES};

/// Default time a cancelled tree gets between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Default time a request waits for the user before it is denied.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Wall-clock time, injected so tests can control timestamps.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock, for the app and `taskctl`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// How the per-task shim is started: `program` followed by the shim arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimProgram {
    pub program: PathBuf,
}

impl ShimProgram {
    /// The running binary itself; its `main` must call [`crate::shim::run_if_invoked`] first.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(ShimProgram {
            program: std::env::current_exe()?,
        })
    }

    /// `name` next to the running binary when it is there (a small dedicated shim such as
    /// `tasktray-shim`), else the running binary itself. A large host should not be copied
    /// once per task: the tray app maps WebKit, ~50 MiB of RSS per process.
    pub fn sibling_or_current_exe(name: &str) -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let sibling = exe.with_file_name(name);
        let program = if sibling.is_file() { sibling } else { exe };
        Ok(ShimProgram { program })
    }
}

/// The supervisor's settings.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// History, logs and locks (`$XDG_DATA_HOME/tasktray` or `TASKTRAY_DATA_DIR` in the app).
    pub data_dir: PathBuf,
    /// Where to find the agent; resolved at each spawn, so installing it later just works.
    pub agent: AgentSearch,
    pub shim: ShimProgram,
    /// Lines kept in memory per task.
    pub ring_lines: usize,
    /// Bytes kept in memory per task.
    pub ring_bytes: usize,
    /// Longest line before it is cut into pieces.
    pub max_line_bytes: usize,
    /// SIGTERM-to-SIGKILL grace period when a task is cancelled.
    pub grace: Duration,
    /// How long a two-way task waits for the user (an approval, or a new instruction after
    /// its turn was stopped) before Tasktray denies the request or ends the task. `None`
    /// waits as long as the task runs.
    pub approval_timeout: Option<Duration>,
    /// Tasks this supervisor runs at once; a task spawned beyond it is queued (`None`: no
    /// limit).
    pub max_running: Option<usize>,
    /// Queued tasks (kept from an earlier run) wait for [`crate::Supervisor::open_queue`]
    /// before any starts, so a host can subscribe to events first. Off by default: the queue
    /// runs from the start.
    pub hold_queue: bool,
    /// Variables set in the agent's environment (after the host's own).
    pub extra_env: Vec<(OsString, OsString)>,
    pub clock: Arc<dyn Clock>,
}

impl SupervisorConfig {
    /// A config with the documented defaults.
    pub fn new(data_dir: PathBuf, agent: AgentSearch, shim: ShimProgram) -> Self {
        SupervisorConfig {
            data_dir,
            agent,
            shim,
            ring_lines: DEFAULT_RING_LINES,
            ring_bytes: DEFAULT_RING_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            grace: DEFAULT_GRACE,
            approval_timeout: Some(DEFAULT_APPROVAL_TIMEOUT),
            max_running: Some(crate::settings::DEFAULT_MAX_RUNNING as usize),
            hold_queue: false,
            extra_env: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }
}
