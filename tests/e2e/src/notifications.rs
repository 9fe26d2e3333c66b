//! The notification server stub (`stubs/notifyd.py`): what the app asked it to show, and the
//! user's side of a notification (clicking an action, dismissing it) through its private
//! interface `dev.tasktray.TestNotifications`.

use std::process::Command;

use serde_json::Value;

use crate::{env, records};

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const TEST_IFACE: &str = "dev.tasktray.TestNotifications";

/// One recorded Notify call.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// Flat, as sent: key, label, key, label, ...
    pub actions: Vec<String>,
    /// Whether the stub answered the call (false in hang mode).
    pub answered: bool,
    pub raw: Value,
}

impl Note {
    fn from_json(raw: Value) -> Note {
        let text = |k: &str| raw[k].as_str().unwrap_or_default().to_owned();
        Note {
            id: raw["id"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
            app_name: text("app_name"),
            summary: text("summary"),
            body: text("body"),
            actions: raw["actions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            answered: raw["answered"].as_bool().unwrap_or(true),
            raw,
        }
    }

    /// The action keys (`default`, `show`, ...).
    pub fn action_keys(&self) -> Vec<&str> {
        self.actions.iter().step_by(2).map(String::as_str).collect()
    }
}

/// The notifications recorded after byte `offset` of the record file.
pub fn since(offset: u64) -> Vec<Note> {
    records::read_since(&env::notify_record(), offset)
        .into_iter()
        .filter(|r| r.get("summary").is_some())
        .map(Note::from_json)
        .collect()
}

/// The ids of the notifications the app closed (CloseNotification) after byte `offset`.
pub fn closed_since(offset: u64) -> Vec<u32> {
    records::read_since(&env::notify_record(), offset)
        .into_iter()
        .filter_map(|r| r["closed"].as_u64())
        .filter_map(|id| u32::try_from(id).ok())
        .collect()
}

/// The current end of the record file.
pub fn offset() -> u64 {
    records::offset(&env::notify_record())
}

fn call(method: &str, args: &[String]) -> Result<(), String> {
    let out = Command::new("dbus-send")
        .args(["--session", "--print-reply", "--reply-timeout=5000"])
        .arg(format!("--dest={DEST}"))
        .arg(PATH)
        .arg(format!("{TEST_IFACE}.{method}"))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run dbus-send: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{method} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Clicks `action` on notification `id`: ActionInvoked, then NotificationClosed.
pub fn invoke(id: u32, action: &str) -> Result<(), String> {
    call(
        "Invoke",
        &[format!("uint32:{id}"), format!("string:{action}")],
    )
}

/// Closes notification `id` (reason 1 expired, 2 dismissed by the user).
pub fn close(id: u32, reason: u32) -> Result<(), String> {
    call(
        "Close",
        &[format!("uint32:{id}"), format!("uint32:{reason}")],
    )
}

/// Makes the server stop answering Notify (a stuck server) until the guard is dropped. The
/// server is shared: call it through [`crate::App::hang_notifications`], which holds the guard
/// while the spec holds the server.
pub(crate) fn hang() -> HangGuard {
    call("SetHang", &["boolean:true".to_owned()]).expect("switch notifyd to --hang");
    HangGuard
}

/// Restores normal answers when dropped, so the next spec gets a working server.
#[derive(Debug)]
pub struct HangGuard;

impl Drop for HangGuard {
    fn drop(&mut self) {
        if let Err(e) = call("SetHang", &["boolean:false".to_owned()]) {
            eprintln!("e2e: cannot switch notifyd back to answering: {e}");
        }
    }
}
