//! What the app keeps for its lifetime, reachable from commands, the tray and the forwarder.

use std::path::PathBuf;
use std::sync::Mutex;

use supervisor::{SpawnRequest, Supervisor};

use crate::lifecycle::Navigation;
use crate::models::{Draft, Settings};

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

/// The New task form's unsent draft, kept in the app's memory: closing the window destroys its
/// page, and the form with it. The form hands over every edit ([`crate::commands::keep_draft`],
/// a lock and a move: cheap enough for each keystroke) and reads the draft back when it mounts
/// in a new window ([`crate::commands::get_draft`]); a submitted task forgets it. One draft,
/// replaced at each edit: it holds what the form holds. Gone when the app quits.
#[derive(Debug, Default)]
pub struct KeptDraft {
    draft: Mutex<Option<Draft>>,
}

impl KeptDraft {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Draft>> {
        self.draft
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `draft` in place of the one before; `None` forgets it.
    pub fn keep(&self, draft: Option<Draft>) {
        *self.lock() = draft;
    }

    /// The kept draft, which stays kept (a window closed again before any edit keeps it).
    pub fn get(&self) -> Option<Draft> {
        self.lock().clone()
    }
}
