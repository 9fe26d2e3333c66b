//! Showing the window, navigating the UI, and quitting without leaving a task behind.
//!
//! The window exists only while it is shown. Closing it destroys it, and WebKit's web process
//! with it: a tray app is idle most of the day, and a hidden webview kept its web process
//! (most of the window's memory, docs/benchmarks.md, 8) for nothing. Show builds it again from
//! its entry in `tauri.conf.json` (`"create": false`: Tauri does not build it at start). A view asked for while the window is missing, or while
//! its page has not mounted yet, waits in [`Navigation`] until the UI takes it on mount
//! ([`take_navigation`]), so a click on a notification's Show lands on its task whatever state
//! the window was in.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tauri::{AppHandle, Emitter, Manager, WebviewWindow, WebviewWindowBuilder};

use crate::models::{events, Navigate};
use crate::state::AppState;

/// Time on top of the grace period for every task tree to be gone before the app exits.
const QUIT_MARGIN: Duration = Duration::from_secs(3);

pub const MAIN_WINDOW: &str = "main";

/// What the window's UI has not been told yet, and whether it listens.
///
/// A navigation is sent as an `app://navigate` event only to a UI that listens (it took the
/// pending navigation once, after subscribing); otherwise it is kept, the newest replacing an
/// older one, until the UI of the next window takes it. One lock over both, so a navigation
/// racing the UI's mount is either taken by it or sent after it.
#[derive(Debug, Default)]
pub struct Navigation {
    inner: Mutex<NavigationState>,
}

#[derive(Debug, Default)]
struct NavigationState {
    /// The window's UI mounted and listens for `app://navigate`.
    listening: bool,
    pending: Option<Navigate>,
    /// When a window was asked for that is not ready yet (for the log: Show to ready).
    requested_at: Option<Instant>,
}

impl Navigation {
    fn lock(&self) -> std::sync::MutexGuard<'_, NavigationState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A view to show: `Some(to)` when the UI listens and the event should go now, `None` when
    /// it is kept for the UI to take on mount.
    pub fn request(&self, to: Navigate) -> Option<Navigate> {
        let mut state = self.lock();
        if state.listening {
            Some(to)
        } else {
            state.pending = Some(to);
            None
        }
    }

    /// The UI mounted and subscribed: from now on it is sent navigations; returns the one that
    /// waited (once), and how long ago its window was asked for.
    pub fn take(&self) -> (Option<Navigate>, Option<Duration>) {
        let mut state = self.lock();
        state.listening = true;
        (
            state.pending.take(),
            state.requested_at.take().map(|at| at.elapsed()),
        )
    }

    /// A window is being built (at `at`): its UI does not listen yet.
    fn building(&self, at: Instant) {
        let mut state = self.lock();
        state.listening = false;
        state.requested_at.get_or_insert(at);
    }

    /// The window is closing or gone: navigations wait for the next one.
    pub fn window_gone(&self) {
        self.lock().listening = false;
    }
}

/// Shows the window, building it first when it does not exist.
pub fn show_main(app: &AppHandle) {
    let asked = Instant::now();
    let handle = app.clone();
    // On the main thread, one request after another: two Shows at once cannot both build it.
    // (Called there already, e.g. from the tray, this runs at once.)
    if let Err(e) = app.run_on_main_thread(move || open(&handle, asked, true)) {
        tracing::warn!("cannot show the window: {e}");
    }
}

/// Builds the window without showing it: only for a WebDriver session started `--hidden`,
/// which needs a webview to attach to (see [`automated`]).
pub fn build_hidden(app: &AppHandle) {
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || open(&handle, Instant::now(), false)) {
        tracing::warn!("cannot build the window: {e}");
    }
}

/// Whether a WebDriver session drives the app (tauri-driver sets this). The end-to-end specs
/// drive the webview, so a hidden start still builds it then, hidden.
pub fn automated() -> bool {
    std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true")
}

fn open(app: &AppHandle, asked: Instant, show: bool) {
    let window = match app.get_webview_window(MAIN_WINDOW) {
        Some(window) => window,
        None => {
            if let Some(state) = app.try_state::<AppState>() {
                state.navigation.building(asked);
            }
            match build(app) {
                Ok(window) => {
                    tracing::info!("window built in {} ms", asked.elapsed().as_millis());
                    window
                }
                Err(e) => {
                    tracing::warn!("cannot build the window: {e}");
                    return;
                }
            }
        }
    };
    if show {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

fn build(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_WINDOW)
        .cloned()
        .ok_or_else(|| {
            tauri::Error::WindowNotFound // no "main" entry in tauri.conf.json
        })?;
    WebviewWindowBuilder::from_config(app, &config)?.build()
}

/// Shows the window on a view.
pub fn navigate(app: &AppHandle, to: Navigate) {
    let now = match app.try_state::<AppState>() {
        Some(state) => state.navigation.request(to),
        None => return,
    };
    if let Some(to) = now {
        if let Err(e) = app.emit(events::NAVIGATE, to) {
            tracing::warn!("cannot navigate the window: {e}");
        }
    }
    show_main(app);
}

/// The window was asked to close: it is destroyed (not hidden), and the app lives on in the
/// tray. Navigations from now on wait for the next window.
pub fn window_closing(app: &AppHandle) {
    if let Some(state) = app.try_state::<AppState>() {
        state.navigation.window_gone();
    }
}

/// The UI's first call once it listens for events: the view it was asked to show before it
/// could hear it (a tray item, a notification's Show, Quit's question), if any.
#[tauri::command]
pub fn take_navigation(state: tauri::State<'_, AppState>) -> Option<Navigate> {
    let (to, since) = state.navigation.take();
    if let Some(since) = since {
        tracing::info!("window ready {} ms after Show", since.as_millis());
    }
    to
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

#[cfg(test)]
mod tests {
    use supervisor::TaskId;

    use super::*;

    fn task(id: u64) -> Navigate {
        Navigate::Task { id: TaskId(id) }
    }

    #[test]
    fn a_navigation_waits_for_the_ui_and_is_taken_once() {
        let nav = Navigation::default();
        assert_eq!(nav.request(task(3)), None, "no UI listens yet: kept");
        assert_eq!(nav.request(task(4)), None, "the newest replaces it");
        assert_eq!(nav.take().0, Some(task(4)));
        assert_eq!(nav.take().0, None, "taken once");
        assert_eq!(
            nav.request(Navigate::New),
            Some(Navigate::New),
            "the UI listens now: sent at once"
        );
        assert_eq!(nav.take().0, None, "and not kept");
    }

    #[test]
    fn a_closed_window_makes_navigations_wait_again() {
        let nav = Navigation::default();
        assert_eq!(
            nav.take(),
            (None, None),
            "a UI that mounts with nothing waiting"
        );
        nav.window_gone();
        assert_eq!(nav.request(Navigate::Settings), None);
        nav.building(Instant::now());
        assert_eq!(
            nav.request(task(7)),
            None,
            "the new window's UI is not up yet"
        );
        let (to, since) = nav.take();
        assert_eq!(to, Some(task(7)));
        assert!(since.is_some(), "Show to ready is measured once");
        assert_eq!(nav.take().1, None);
    }
}
