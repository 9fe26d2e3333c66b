//! Tasktray, the tray app: hosts one [`supervisor::Supervisor`] on the app's tokio runtime and
//! gives it a tray, a window and notifications.
//!
//! - `commands`: what the UI calls (thin: one supervisor call each)
//! - `api`: the local HTTP API on a Unix socket (`tasktray-api`), for every other client
//! - `forward`: supervisor events -> webview events (batched output), tray, notifications
//! - `tray`, `notify`, `lifecycle`: the tray menu, desktop notifications, the window (built
//!   when shown, destroyed when closed) and quit
//! - `models`, `error`, `settings`, `state`: IPC types, `{code, message}` errors, settings
//! - `desktop`: `--version`, the installed shim, "Start at login" (the autostart entry)

pub mod api;
pub mod commands;
pub mod desktop;
pub mod error;
pub mod forward;
pub mod lifecycle;
pub mod models;
pub mod notify;
pub mod state;
pub mod tray;
pub mod worktrees;

use std::sync::Mutex;

use supervisor::{AgentSearch, ShimProgram, Supervisor, SupervisorConfig};
use tauri::{Manager, RunEvent, WindowEvent};

use crate::models::Settings;
use crate::state::AppState;

/// Starts the app; returns when it quits.
pub fn run() {
    if desktop::print_version_if_asked(std::env::args()) {
        return;
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "tasktray: there is no graphical session here (neither DISPLAY nor WAYLAND_DISPLAY is \
             set). Start it from your desktop, or use `taskctl` in a terminal."
        );
        std::process::exit(1);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tasktray")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tasktray: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    // One runtime for Tauri and the supervisor.
    tauri::async_runtime::set(runtime.handle().clone());
    let handle = runtime.handle().clone();
    let start_hidden = std::env::args().any(|a| a == "--hidden");

    let app = tauri::Builder::default()
        // First: a second launch only shows the running instance's window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            lifecycle::show_main(app)
        }))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(desktop::autostart_plugin())
        .invoke_handler(tauri::generate_handler![
            commands::list_tasks,
            commands::get_task,
            commands::task_output,
            commands::task_log_page,
            commands::spawn_task,
            commands::cancel_task,
            commands::pending_approvals,
            commands::answer_approval,
            commands::send_message,
            commands::interrupt_task,
            commands::follow_up,
            commands::remove_task,
            commands::open_transcript,
            commands::copy_output,
            commands::get_settings,
            commands::save_settings,
            commands::detect_agent,
            commands::recent_projects,
            commands::pick_folder,
            commands::quit_app,
            commands::host_process,
            commands::save_output,
            commands::keep_draft,
            commands::get_draft,
            lifecycle::take_navigation,
            worktrees::repo_head,
            worktrees::review_task,
            worktrees::file_diff,
            worktrees::merge_task,
            worktrees::discard_worktree,
            worktrees::keep_branch,
            worktrees::open_worktree,
            desktop::app_version,
            desktop::start_at_login,
            desktop::set_start_at_login,
        ])
        .setup(move |app| {
            setup(app, handle)?;
            // Started hidden (at login), the window is not built until it is shown. A
            // WebDriver session (the end-to-end specs) needs a webview to attach to, though.
            if !start_hidden {
                lifecycle::show_main(app.handle());
            } else if lifecycle::automated() {
                lifecycle::build_hidden(app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing the window destroys it, and WebKit's web process with it; the app lives
            // on in the tray (the exit that follows the last window is prevented below).
            WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed => {
                lifecycle::window_closing(window.app_handle());
            }
            _ => {}
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("tasktray: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| {
        // Only Quit (which stops the tasks first) ends the app, not the last window closing.
        if let RunEvent::ExitRequested {
            api, code: None, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
}

fn setup(
    app: &mut tauri::App,
    runtime: tokio::runtime::Handle,
) -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = supervisor::paths::data_dir()?;
    let log_dir = app.path().app_log_dir()?;
    let guard = init_logging(&log_dir);
    tracing::info!(
        "Tasktray {} starting; data in {}",
        env!("CARGO_PKG_VERSION"),
        data_dir.display()
    );

    let settings_path = Settings::path(&data_dir);
    let settings = Settings::load(&settings_path);
    let shim = ShimProgram {
        program: desktop::shim_program(&std::env::current_exe()?),
    };
    tracing::info!("task shim: {}", shim.program.display());
    let mut config = SupervisorConfig::new(data_dir, AgentSearch::default(), shim);
    settings.apply(&mut config);
    // Queued tasks kept from the last run start once the window and tray listen.
    config.hold_queue = true;
    let runtime_handle = runtime.clone();
    let supervisor = Supervisor::start(config, runtime)?;

    app.manage(AppState {
        supervisor: supervisor.clone(),
        settings: Mutex::new(settings),
        settings_path,
        navigation: lifecycle::Navigation::default(),
    });
    app.manage(state::KeptDraft::default());
    if let Some(guard) = guard {
        app.manage(LogGuard(guard));
    }
    tray::create(app.handle())?;
    forward::start(app.handle().clone(), supervisor.clone());
    supervisor.open_queue();
    app.manage(api::Api::default());
    {
        let _runtime = runtime_handle.enter();
        api::start(app.handle());
    }
    Ok(())
}

/// Keeps the log writer flushing until the app ends.
struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Log files kept: one a day, a week of them.
const LOG_FILES_KEPT: usize = 7;

/// Logs to `<app log dir>/tasktray.log.<date>` (a tray app has no terminal; a new file each
/// day, the last [`LOG_FILES_KEPT`] kept, in a folder only the user can read) and to stderr.
/// `TASKTRAY_LOG` sets the filter (default `info`).
fn init_logging(dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("TASKTRAY_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    use std::io::IsTerminal;
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let private = || -> std::io::Result<tracing_appender::rolling::RollingFileAppender> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("tasktray.log")
            .max_log_files(LOG_FILES_KEPT)
            .build(dir)
            .map_err(std::io::Error::other)
    };
    let file = private().ok().map(|appender| {
        let (writer, guard) = tracing_appender::non_blocking(appender);
        (
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter()),
            guard,
        )
    });
    let (file_layer, guard) = match file {
        Some((layer, guard)) => (Some(layer), Some(guard)),
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    guard
}

/// Task records for unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use supervisor::{TaskId, TaskRecord, TaskStatus};

    /// A task with nothing but an id, a status and a name; tests set what else they need.
    pub fn task(id: u64, status: TaskStatus, name: &str) -> TaskRecord {
        TaskRecord {
            id: TaskId(id),
            name: name.into(),
            prompt: String::new(),
            project_dir: "/p".into(),
            options: Default::default(),
            status,
            created_at_ms: id,
            started_at_ms: None,
            finished_at_ms: None,
            exit: None,
            error: None,
            failure: None,
            result: None,
            session_id: None,
            follow_up_of: None,
            owner: None,
            shim: None,
            line_count: 0,
            worktree: None,
        }
    }
}
