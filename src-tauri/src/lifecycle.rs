//! Showing the window, navigating the UI, and quitting without leaving a task behind.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use crate::models::{events, Navigate};
use crate::state::AppState;

/// Time on top of the grace period for every task tree to be gone before the app exits.
const QUIT_MARGIN: Duration = Duration::from_secs(3);

pub const MAIN_WINDOW: &str = "main";

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Shows the window on a view.
pub fn navigate(app: &AppHandle, to: Navigate) {
    show_main(app);
    if let Err(e) = app.emit(events::NAVIGATE, to) {
        tracing::warn!("cannot navigate the window: {e}");
    }
}

/// Quits, after asking in the window when tasks are running.
pub fn quit(app: &AppHandle) {
    let supervisor = &app.state::<AppState>().supervisor;
    let mine: Vec<_> = supervisor
        .running()
        .into_iter()
        .filter(|t| supervisor.runs(t.id))
        .collect();
    let (queued, running): (Vec<_>, Vec<_>) = mine
        .into_iter()
        .partition(|t| t.status == supervisor::TaskStatus::Queued);
    if running.is_empty() {
        quit_now(app);
    } else {
        navigate(
            app,
            Navigate::ConfirmQuit {
                tasks: running.iter().map(|t| t.id).collect(),
                queued: queued.len() as u32,
            },
        );
    }
}

/// Cancels every task, waits for their trees to be gone, then exits.
pub fn quit_now(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let supervisor = app.state::<AppState>().supervisor.clone();
        let deadline = supervisor.config().grace + QUIT_MARGIN;
        let (running, queued): (Vec<_>, Vec<_>) = supervisor
            .running()
            .into_iter()
            .partition(|t| t.status.is_running());
        tracing::info!(
            "quitting: stopping {} running tasks, keeping {} queued",
            running.len(),
            queued.len()
        );
        supervisor.shutdown(deadline).await;
        crate::api::stop(&app).await;
        app.exit(0);
    });
}
