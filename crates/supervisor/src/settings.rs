//! The user's settings, shared by every host: the app edits them, the local API serves them,
//! and `taskctl --local` runs with them. Stored as `settings.json` in the data dir, with a
//! format version; a missing or damaged file gives the defaults, so a bad file never keeps a
//! host from starting.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::agent::{tool_rules, AgentSearch};
use crate::config::{SupervisorConfig, DEFAULT_APPROVAL_TIMEOUT, DEFAULT_GRACE};
use crate::error::{Error, Result};
use crate::model::{OutputFormat, PermissionMode, SpawnRequest};
use crate::ring::DEFAULT_RING_LINES;

/// The settings file format version.
const VERSION: u32 = 1;

/// Running tasks at once unless the user says otherwise.
pub const DEFAULT_MAX_RUNNING: u32 = 4;

/// Bounds of the numeric settings, also shown by the UI.
pub const RING_LINES: RangeInclusive<u32> = 100..=100_000;
pub const GRACE_SECS: RangeInclusive<f64> = 0.5..=120.0;
/// A day at most; 0 means "as long as the task runs".
pub const APPROVAL_TIMEOUT_MINS: RangeInclusive<u32> = 0..=1440;
/// 0 means no limit.
pub const MAX_RUNNING: RangeInclusive<u32> = 0..=1000;

/// The user's settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The claude binary; found automatically when empty.
    pub agent_path: Option<String>,
    pub default_format: OutputFormat,
    pub default_permission_mode: PermissionMode,
    pub default_model: Option<String>,
    pub keep_session_by_default: bool,
    /// New tasks in a git repository run in a worktree of their own unless the user says
    /// otherwise.
    pub worktree_by_default: bool,
    /// Desktop notifications when a task completes or fails.
    pub notifications: bool,
    /// Output lines kept in memory per task.
    pub ring_lines: u32,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled.
    pub grace_secs: f64,
    /// Minutes a request waits for an answer before it is denied (also how long a task whose
    /// turn was stopped waits for a new instruction); 0 waits as long as the task runs.
    pub approval_timeout_mins: u32,
    /// Tools every task may use without asking, as typed (`Read Grep Bash(git log *)`).
    pub allowed_tools: String,
    /// Tasks that run at once; more are queued and start in order as others end. 0: no limit.
    pub max_running: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            agent_path: None,
            default_format: OutputFormat::StreamJson,
            default_permission_mode: PermissionMode::Default,
            default_model: None,
            keep_session_by_default: false,
            worktree_by_default: false,
            notifications: true,
            ring_lines: DEFAULT_RING_LINES as u32,
            grace_secs: DEFAULT_GRACE.as_secs_f64(),
            approval_timeout_mins: (DEFAULT_APPROVAL_TIMEOUT.as_secs() / 60) as u32,
            allowed_tools: String::new(),
            max_running: DEFAULT_MAX_RUNNING,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    #[serde(flatten)]
    settings: Settings,
}

impl Settings {
    /// Where the settings of a data dir are kept.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("settings.json")
    }

    /// Reads the settings; a missing file gives the defaults, a damaged one too (with a
    /// warning).
    pub fn load(path: &Path) -> Settings {
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(stored) => stored.settings,
                Err(e) => {
                    tracing::warn!("ignoring damaged settings {}: {e}", path.display());
                    Settings::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => {
                tracing::warn!("cannot read settings {}: {e}", path.display());
                Settings::default()
            }
        }
    }

    /// Checks a value from a user and tidies it (trimmed paths, normalised tool rules); the
    /// error names the field.
    pub fn validate(mut self) -> Result<Settings> {
        let invalid = |message: String| Err(Error::InvalidSettings { message });
        if !RING_LINES.contains(&self.ring_lines) {
            return invalid(format!(
                "the output buffer must hold {} to {} lines",
                RING_LINES.start(),
                RING_LINES.end()
            ));
        }
        if !self.grace_secs.is_finite() || !GRACE_SECS.contains(&self.grace_secs) {
            return invalid(format!(
                "the cancel grace period must be {} to {} seconds",
                GRACE_SECS.start(),
                GRACE_SECS.end()
            ));
        }
        if !APPROVAL_TIMEOUT_MINS.contains(&self.approval_timeout_mins) {
            return invalid(format!(
                "the time to answer a request must be {} to {} minutes (0: no limit)",
                APPROVAL_TIMEOUT_MINS.start(),
                APPROVAL_TIMEOUT_MINS.end()
            ));
        }
        if !MAX_RUNNING.contains(&self.max_running) {
            return invalid(format!(
                "tasks running at once must be {} to {} (0: no limit)",
                MAX_RUNNING.start(),
                MAX_RUNNING.end()
            ));
        }
        self.allowed_tools = tool_rules(&self.allowed_tools).join(" ");
        self.agent_path = self
            .agent_path
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        self.default_model = self
            .default_model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if let Some(agent) = &self.agent_path {
            if !Path::new(agent).is_absolute() {
                return invalid("the agent path must be absolute".into());
            }
        }
        Ok(self)
    }

    /// Writes the settings atomically (a reader sees the old file or the new one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(&Stored {
            version: VERSION,
            settings: self.clone(),
        })
        .map_err(|e| Error::io("encode the settings for", path, std::io::Error::other(e)))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            tmp.write_all(&json)?;
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| Error::io("save the settings to", path, e))
    }

    /// Applies what the supervisor uses to the config of new tasks.
    pub fn apply(&self, config: &mut SupervisorConfig) {
        config.agent = AgentSearch::from_env(self.agent_path.as_ref().map(PathBuf::from));
        config.ring_lines = self.ring_lines as usize;
        config.grace = Duration::from_secs_f64(self.grace_secs);
        config.approval_timeout = match self.approval_timeout_mins {
            0 => None,
            mins => Some(Duration::from_secs(u64::from(mins) * 60)),
        };
        config.max_running = match self.max_running {
            0 => None,
            n => Some(n as usize),
        };
    }

    /// What the settings add to every task, whoever starts it: the tools always allowed.
    pub fn prepare(&self, request: &mut SpawnRequest) {
        for rule in tool_rules(&self.allowed_tools) {
            if !request.options.allowed_tools.contains(&rule) {
                request.options.allowed_tools.push(rule);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_defaults_and_damaged_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = Settings::path(dir.path());
        assert_eq!(Settings::load(&file), Settings::default());
        let settings = Settings {
            notifications: false,
            ring_lines: 5000,
            max_running: 2,
            ..Settings::default()
        };
        settings.save(&file).expect("save");
        assert_eq!(Settings::load(&file), settings);
        std::fs::write(&file, b"{ broken").expect("write");
        assert_eq!(Settings::load(&file), Settings::default());
    }

    #[test]
    fn a_file_from_before_the_queue_gets_the_default_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = Settings::path(dir.path());
        std::fs::write(&file, br#"{"version":1,"notifications":false}"#).expect("write");
        let loaded = Settings::load(&file);
        assert!(!loaded.notifications);
        assert_eq!(loaded.max_running, DEFAULT_MAX_RUNNING);
    }

    fn message(settings: Settings) -> String {
        settings.validate().expect_err("invalid").to_string()
    }

    #[test]
    fn validation_names_the_problem() {
        let bad = |change: fn(&mut Settings)| {
            let mut s = Settings::default();
            change(&mut s);
            message(s)
        };
        assert!(bad(|s| s.ring_lines = 5).contains("output buffer"));
        assert!(bad(|s| s.grace_secs = f64::NAN).contains("grace"));
        assert!(bad(|s| s.agent_path = Some("bin/claude".into())).contains("absolute"));
        assert!(bad(|s| s.max_running = 5000).contains("at once"));
        let blank = Settings {
            agent_path: Some("  ".into()),
            ..Settings::default()
        };
        assert_eq!(blank.validate().expect("blank is auto").agent_path, None);
    }

    #[test]
    fn zero_means_no_limit() {
        let mut config = SupervisorConfig::new(
            PathBuf::from("/data"),
            AgentSearch::from_env(None),
            crate::ShimProgram {
                program: PathBuf::from("/shim"),
            },
        );
        Settings {
            max_running: 0,
            approval_timeout_mins: 0,
            ..Settings::default()
        }
        .apply(&mut config);
        assert_eq!(config.max_running, None);
        assert_eq!(config.approval_timeout, None);
        Settings::default().apply(&mut config);
        assert_eq!(config.max_running, Some(4));
    }
}
