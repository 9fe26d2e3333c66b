//! What the app keeps for its lifetime, reachable from commands, the tray and the forwarder.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use supervisor::Supervisor;

use crate::models::Settings;

#[derive(Debug)]
pub struct AppState {
    pub supervisor: Supervisor,
    pub settings: Mutex<Settings>,
    pub settings_path: PathBuf,
    /// When the list was last re-read from disk (tasks started by `taskctl` appear there).
    pub last_refresh: Mutex<Option<Instant>>,
}

impl AppState {
    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
