//! The local HTTP API (`tasktray-api`) served by the app on its private Unix socket, so
//! scripts, editors and other tools drive the same supervisor as the window. The app only
//! starts and stops the server; its settings pass through [`AppSettings`].

use std::sync::{Arc, Mutex};

use tasktray_api::{ApiServer, ApiState, SettingsStore};
use tauri::{AppHandle, Manager};

use crate::models::Settings;
use crate::state::AppState;

/// The running server, kept until quit.
#[derive(Debug, Default)]
pub struct Api(Mutex<Option<ApiServer>>);

/// The app's settings as the API reads and writes them.
struct AppSettings(AppHandle);

impl SettingsStore for AppSettings {
    fn get(&self) -> Settings {
        self.0.state::<AppState>().settings()
    }

    fn save(&self, settings: Settings) -> supervisor::Result<Settings> {
        self.0.state::<AppState>().save_settings(settings)
    }
}

/// Starts the server on the user's socket (see `tasktray_api::default_socket_path`). The app
/// runs without it when the socket cannot be had: another server answers there, or its folder
/// is not private; the log says why. Call it inside the app's tokio runtime.
pub fn start(app: &AppHandle) {
    let path = tasktray_api::default_socket_path();
    let state = ApiState::new(
        app.state::<AppState>().supervisor.clone(),
        Arc::new(AppSettings(app.clone())),
    );
    match ApiServer::start(&path, state) {
        Ok(server) => {
            tracing::info!("local API on {}", path.display());
            if let Some(api) = app.try_state::<Api>() {
                *api.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(server);
            }
        }
        Err(e) => tracing::warn!("no local API: {e}"),
    }
}

/// Stops the server and removes its socket (at quit).
pub async fn stop(app: &AppHandle) {
    let server = app.try_state::<Api>().and_then(|api| {
        api.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    });
    if let Some(server) = server {
        server.stop().await;
    }
}
