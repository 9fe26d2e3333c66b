//! What the app keeps for its lifetime, reachable from commands, the tray and the forwarder.

use std::path::PathBuf;
use std::sync::Mutex;

use supervisor::{SpawnRequest, Supervisor};

use crate::lifecycle::Navigation;
use crate::models::Settings;

#[derive(Debug)]
pub struct AppState {
    pub supervisor: Supervisor,
    pub settings: Mutex<Settings>,
    pub settings_path: PathBuf,
    /// The view the window's UI is to show once it is up (the window may not exist).
    pub navigation: Navigation,
}

impl AppState {
    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Checks, saves and applies new settings (from the window or the local API); returns them
    /// as saved.
    pub fn save_settings(&self, new: Settings) -> supervisor::Result<Settings> {
        let new = new.validate()?;
        new.save(&self.settings_path)?;
        self.supervisor.configure(|config| new.apply(config));
        *self
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new.clone();
        Ok(new)
    }

    /// What Settings adds to every task, whoever starts it: the tools always allowed.
    pub fn prepare_spawn(&self, request: &mut SpawnRequest) {
        self.settings().prepare(request);
    }
}
