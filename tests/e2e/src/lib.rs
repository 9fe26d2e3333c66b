//! # tasktray-e2e: the harness of Tasktray's end-to-end specs
//!
//! The specs (`tests/e2e/tests/*.rs`) drive the real `tasktray` binary in a real WebKitGTK
//! webview, the way a desktop would: the tray through a panel's D-Bus calls, notifications
//! through a notification server, the window through WebDriver.
//!
//! ## Theory of operation
//!
//! `tests/e2e/run.sh` builds the binaries, starts Xvfb and a private D-Bus session bus, and on
//! that bus two stubs of what a desktop provides: a notification server (`stubs/notifyd.py`)
//! and a StatusNotifierWatcher (`stubs/sni_watcher.py`). Both append what they see to record
//! files, whose paths run.sh exports. Then it runs the specs with `TASKTRAY_E2E=1`; without
//! that every spec returns at once (see [`enabled`]).
//!
//! Each spec starts the app with [`App::launch`]:
//! - a sandbox: its own HOME, XDG dirs, TMPDIR, `TASKTRAY_DATA_DIR`, and `TASKTRAY_AGENT`
//!   pointing at `fake-claude`; nothing touches the real user's files;
//! - its own `tauri-driver` on free ports, started with that environment, because the app
//!   inherits the driver's environment and `tauri:options` cannot carry variables;
//! - a WebDriver session (fantoccini, plain HTTP to 127.0.0.1) with capabilities
//!   `{"browserName": "wry", "tauri:options": {"application": <target/debug/tasktray>}}`;
//! - a marker variable ([`procs::MARKER_ENV`]) inherited by every process of the spec, so the
//!   end of the spec can assert that none is left ([`App::finish`]), and a failed spec kills
//!   them all (`Drop`).
//!
//! Specs run one at a time (a lock in [`App::launch`]): they share the bus, on which the app
//! owns its single-instance name, and the stubs. Each reads only the records written after it
//! started.
//!
//! What a spec can use: the WebDriver client ([`App::client`], screenshots), the app's X
//! windows ([`x11`]), its tray item and menu ([`tray::Tray`]: read the dbusmenu layout, click a
//! label), the notifications it sent ([`App::notifications`], [`notifications::invoke`] for a
//! click on an action), its Tauri commands ([`App::invoke`], [`App::spawn_task`]: tasks without
//! the UI), the UI itself ([`ui`]: elements by `data-testid`, clicks, typing, the launch form,
//! a snapshot of the task view), a second launch in the same sandbox ([`App::relaunch`]), and
//! process checks ([`App::leftovers`]). Waits poll with a deadline ([`wait`]).

pub mod app;
pub mod driver;
pub mod env;
pub mod ipc;
pub mod notifications;
pub mod procs;
pub mod records;
pub mod tray;
pub mod ui;
pub mod wait;
pub mod x11;

pub use app::{App, Launch};
pub use env::enabled;
