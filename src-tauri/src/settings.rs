//! Loading, checking and saving [`Settings`], and applying them to the supervisor.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use supervisor::{AgentSearch, Supervisor, SupervisorConfig};

use crate::error::IpcError;
use crate::models::Settings;

/// The settings file format version.
const VERSION: u32 = 1;

/// Bounds of the numeric settings, also shown by the UI.
pub const RING_LINES: std::ops::RangeInclusive<u32> = 100..=100_000;
pub const GRACE_SECS: std::ops::RangeInclusive<f64> = 0.5..=120.0;
/// A day at most; 0 means "as long as the task runs".
pub const APPROVAL_TIMEOUT_MINS: std::ops::RangeInclusive<u32> = 0..=1440;

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    #[serde(flatten)]
    settings: Settings,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("settings.json")
}

/// Reads the settings; a missing file gives the defaults, a damaged one too (with a warning),
/// so a bad file never keeps the app from starting.
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

/// Checks a settings value from the UI; errors name the field.
pub fn validate(mut settings: Settings) -> Result<Settings, IpcError> {
    if !RING_LINES.contains(&settings.ring_lines) {
        return Err(IpcError::new(
            "InvalidSettings",
            format!(
                "the output buffer must hold {} to {} lines",
                RING_LINES.start(),
                RING_LINES.end()
            ),
        ));
    }
    if !settings.grace_secs.is_finite() || !GRACE_SECS.contains(&settings.grace_secs) {
        return Err(IpcError::new(
            "InvalidSettings",
            format!(
                "the cancel grace period must be {} to {} seconds",
                GRACE_SECS.start(),
                GRACE_SECS.end()
            ),
        ));
    }
    if !APPROVAL_TIMEOUT_MINS.contains(&settings.approval_timeout_mins) {
        return Err(IpcError::new(
            "InvalidSettings",
            format!(
                "the time to answer a request must be {} to {} minutes (0: no limit)",
                APPROVAL_TIMEOUT_MINS.start(),
                APPROVAL_TIMEOUT_MINS.end()
            ),
        ));
    }
    settings.allowed_tools = supervisor::tool_rules(&settings.allowed_tools).join(" ");
    settings.agent_path = settings
        .agent_path
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    settings.default_model = settings
        .default_model
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    if let Some(agent) = &settings.agent_path {
        if !Path::new(agent).is_absolute() {
            return Err(IpcError::new(
                "InvalidSettings",
                "the agent path must be absolute",
            ));
        }
    }
    Ok(settings)
}

/// Writes the settings atomically.
pub fn save(path: &Path, settings: &Settings) -> Result<(), IpcError> {
    let json = serde_json::to_vec_pretty(&Stored {
        version: VERSION,
        settings: settings.clone(),
    })
    .map_err(|e| IpcError::new("Io", format!("cannot encode the settings: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&json)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| {
        IpcError::new(
            "Io",
            format!("cannot save the settings to {}: {e}", path.display()),
        )
    })
}

/// Applies the settings that the supervisor uses to the config of new tasks.
pub fn apply(settings: &Settings, config: &mut SupervisorConfig) {
    config.agent = AgentSearch::from_env(settings.agent_path.as_ref().map(PathBuf::from));
    config.ring_lines = settings.ring_lines as usize;
    config.grace = Duration::from_secs_f64(settings.grace_secs);
    config.approval_timeout = match settings.approval_timeout_mins {
        0 => None,
        mins => Some(Duration::from_secs(u64::from(mins) * 60)),
    };
}

/// Applies settings to a running supervisor.
pub fn apply_to(settings: &Settings, supervisor: &Supervisor) {
    supervisor.configure(|config| apply(settings, config));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_defaults_and_damaged_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = path(dir.path());
        assert_eq!(load(&file), Settings::default());
        let settings = Settings {
            notifications: false,
            ring_lines: 5000,
            ..Settings::default()
        };
        save(&file, &settings).expect("save");
        assert_eq!(load(&file), settings);
        std::fs::write(&file, b"{ broken").expect("write");
        assert_eq!(load(&file), Settings::default());
    }

    #[test]
    fn validation_names_the_problem() {
        let bad = Settings {
            ring_lines: 5,
            ..Settings::default()
        };
        assert!(validate(bad)
            .expect_err("too small")
            .message
            .contains("output buffer"));
        let bad = Settings {
            grace_secs: f64::NAN,
            ..Settings::default()
        };
        assert!(validate(bad).expect_err("nan").message.contains("grace"));
        let bad = Settings {
            agent_path: Some("bin/claude".into()),
            ..Settings::default()
        };
        assert!(validate(bad)
            .expect_err("relative")
            .message
            .contains("absolute"));
        let blank = Settings {
            agent_path: Some("  ".into()),
            ..Settings::default()
        };
        assert_eq!(validate(blank).expect("blank is auto").agent_path, None);
    }
}
