//! What makes Tasktray an installed desktop app: `--version`, finding the task shim wherever the
//! app is installed, and "Start at login" (an XDG autostart entry, through
//! `tauri-plugin-autostart`, that starts the app with `--hidden`).

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

use crate::commands::off_main;
use crate::error::{IpcError, IpcResult};

/// The one version of the workspace: the app, `taskctl` and the package all carry it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The small program each task runs under (crates/supervisor's `tasktray-shim`).
pub const SHIM_NAME: &str = "tasktray-shim";

/// The argument the autostart entry starts the app with: in the tray, no window.
pub const HIDDEN_ARG: &str = "--hidden";

/// `tasktray --version` (or `-V`) prints `tasktray <version>`, as `taskctl --version` does,
/// and needs no display. True when it was asked for (the app then exits).
pub fn print_version_if_asked(args: impl IntoIterator<Item = String>) -> bool {
    // Only the first argument, as clap reads it for taskctl: `tasktray --hidden --version`
    // is not a question.
    let asked = args
        .into_iter()
        .nth(1)
        .is_some_and(|a| a == "--version" || a == "-V");
    if asked {
        println!("tasktray {VERSION}");
    }
    asked
}

/// Where the shim may be, for an app binary at `exe`, in order: next to it (`/usr/bin`, a
/// build's `target/<profile>`, `~/.local/bin`), then in the lib folder beside its bin folder
/// (`/usr/lib/tasktray`, `~/.local/lib/tasktray`), where the package and `make install` put it.
pub fn shim_candidates(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else {
        return Vec::new();
    };
    let mut found = vec![dir.join(SHIM_NAME)];
    if let Some(prefix) = dir.parent() {
        found.push(prefix.join("lib").join("tasktray").join(SHIM_NAME));
    }
    found
}

/// The first of [`shim_candidates`] that is an executable file, else the app binary itself
/// (it is also a shim, only a much larger one to start for each task).
pub fn shim_program(exe: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    shim_candidates(exe)
        .into_iter()
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .unwrap_or_else(|| exe.to_path_buf())
}

/// The autostart plugin, set up to start the app hidden. Its entry is
/// `$XDG_CONFIG_HOME/autostart/Tasktray.desktop` (`~/.config/autostart`), with this binary's
/// path; the entry is the only record of the setting.
pub fn autostart_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new()
        .arg(HIDDEN_ARG)
        .build()
}

/// The app's version, for Settings.
#[tauri::command]
pub fn app_version() -> String {
    VERSION.to_owned()
}

/// Whether Tasktray starts at login (its autostart entry is there).
#[tauri::command]
pub async fn start_at_login(app: AppHandle) -> IpcResult<bool> {
    off_main(move || app.autolaunch().is_enabled().map_err(autostart_error)).await
}

/// Turns "Start at login" on (writes the autostart entry, with `--hidden`) or off (removes
/// it); returns the state the entry is in afterwards.
#[tauri::command]
pub async fn set_start_at_login(app: AppHandle, enabled: bool) -> IpcResult<bool> {
    off_main(move || {
        let manager = app.autolaunch();
        let done = if enabled {
            manager.enable()
        } else {
            manager.disable()
        };
        done.map_err(autostart_error)?;
        tracing::info!(
            "start at login turned {}",
            if enabled { "on" } else { "off" }
        );
        manager.is_enabled().map_err(autostart_error)
    })
    .await
}

fn autostart_error(e: tauri_plugin_autostart::Error) -> IpcError {
    IpcError::new(
        "Autostart",
        format!("cannot change the autostart entry (~/.config/autostart): {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn the_shim_is_found_next_to_the_app_or_in_the_lib_folder() {
        let root = tempfile::tempdir().expect("temp dir");
        // As the package installs it: /usr/bin/tasktray, /usr/lib/tasktray/tasktray-shim.
        let usr = root.path().join("usr");
        let app = usr.join("bin/tasktray");
        executable(&app);
        assert_eq!(shim_program(&app), app, "no shim: the app is its own");
        let in_lib = usr.join("lib/tasktray/tasktray-shim");
        executable(&in_lib);
        assert_eq!(shim_program(&app), in_lib);
        // Next to the app (a build's target dir, ~/.local/bin) comes first.
        let beside = usr.join("bin/tasktray-shim");
        executable(&beside);
        assert_eq!(shim_program(&app), beside);
        // A file that is not executable is no shim.
        std::fs::set_permissions(&beside, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(shim_program(&app), in_lib);
    }

    #[test]
    fn version_only_when_asked_first() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(print_version_if_asked(args(&["tasktray", "--version"])));
        assert!(print_version_if_asked(args(&["tasktray", "-V"])));
        assert!(!print_version_if_asked(args(&["tasktray", "--hidden"])));
        assert!(!print_version_if_asked(args(&["tasktray"])));
        assert!(!print_version_if_asked(args(&[
            "tasktray",
            "--hidden",
            "--version"
        ])));
    }
}
