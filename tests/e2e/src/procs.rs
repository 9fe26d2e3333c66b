//! The few process facts the specs need, read from `/proc`, and killing what a spec leaves.
//!
//! Every process a spec starts carries [`MARKER_ENV`]`=<spec's id>` in its environment
//! (tauri-driver, WebKitWebDriver, the app, WebKit's helpers, the task shims and agents all
//! inherit it), so "nothing left behind" is a query, whatever the process tree looked like.

use std::fs;
use std::path::PathBuf;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// The environment variable that marks a spec's processes.
pub const MARKER_ENV: &str = "TASKTRAY_E2E_SPEC";

/// Live (non-zombie) processes whose environment holds `key=value`.
pub fn marked(key: &str, value: &str) -> Vec<i32> {
    tasktray_test_support::processes_with_env(key, value)
}

/// Live processes whose environment holds both `key=value` and some `with_key=...`.
pub fn marked_with(key: &str, value: &str, with_key: &str) -> Vec<i32> {
    let prefix = format!("{with_key}=");
    marked(key, value)
        .into_iter()
        .filter(|&pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .map(|env| {
                    env.split(|&b| b == 0)
                        .any(|kv| kv.starts_with(prefix.as_bytes()))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    tasktray_test_support::alive(pid)
}

/// The state letter and parent of `pid`.
fn stat(pid: i32) -> Option<(char, i32)> {
    let raw = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = raw.get(raw.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

fn pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Live children of `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|&p| stat(p).is_some_and(|(s, ppid)| ppid == pid && s != 'Z'))
        .collect()
}

/// The executable of `pid` (without the ` (deleted)` a rebuilt binary gets).
pub fn exe(pid: i32) -> Option<PathBuf> {
    let link = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let text = link.to_string_lossy();
    Some(PathBuf::from(
        text.strip_suffix(" (deleted)").unwrap_or(&text).to_owned(),
    ))
}

/// `pid`'s command line, for messages.
pub fn describe(pid: i32) -> String {
    let cmd = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    format!("{pid} ({})", cmd.trim())
}

/// [`describe`] of each pid, one per line.
pub fn describe_all(pids: &[i32]) -> String {
    pids.iter()
        .map(|&p| describe(p))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sends `signal` to each pid, ignoring ones already gone.
pub fn signal_all(pids: &[i32], signal: Signal) {
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Makes this test process the reaper of the orphans of everything it starts (tauri-driver
/// kills WebKitWebDriver without waiting for it; the app's WebKit helpers outlive it for a
/// moment), so they are reaped here, by [`reap_orphans`], instead of by whatever PID 1 the
/// container has.
pub fn become_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!("e2e: cannot become a child subreaper ({e}); orphans go to PID 1");
    }
}

/// Reaps the zombies among this process's children, except `keep` (children that a
/// `std::process::Child` still owns and will wait for itself).
pub fn reap_orphans(keep: &[i32]) {
    let me = std::process::id() as i32;
    for pid in pids() {
        if keep.contains(&pid) {
            continue;
        }
        if stat(pid).is_some_and(|(s, ppid)| s == 'Z' && ppid == me) {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// The WebKit web processes of the app `pid` (its `WebKitWebProcess` children): one while its
/// window exists, none once it is closed.
pub fn web_processes(pid: i32) -> Vec<i32> {
    children(pid)
        .into_iter()
        .filter(|&c| exe(c).is_some_and(|e| e.ends_with("WebKitWebProcess")))
        .collect()
}
