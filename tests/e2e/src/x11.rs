//! The app's top-level X windows, as the X server sees them (`xwininfo`, `xprop` from
//! x11-utils): title, size and whether the window is shown. WebDriver only knows the page.

use std::process::Command;

/// One top-level window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XWindow {
    pub id: String,
    /// `WM_NAME`: the window title.
    pub title: String,
    /// Mapped and viewable: shown on the screen.
    pub viewable: bool,
    pub width: u32,
    pub height: u32,
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program} (x11-utils): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The top-level windows whose `_NET_WM_PID` is `pid`.
pub fn windows_of(pid: i32) -> Result<Vec<XWindow>, String> {
    let tree = run("xwininfo", &["-root", "-children"])?;
    let mut windows = Vec::new();
    for line in tree.lines() {
        let line = line.trim();
        let Some(id) = line
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with("0x"))
        else {
            continue;
        };
        let owner = match run("xprop", &["-id", id, "_NET_WM_PID"]) {
            Ok(owner) => owner,
            Err(_) => continue, // gone meanwhile
        };
        if owner.split('=').nth(1).map(str::trim) != Some(&pid.to_string()) {
            continue;
        }
        if let Ok(window) = window(id) {
            windows.push(window);
        }
    }
    Ok(windows)
}

fn window(id: &str) -> Result<XWindow, String> {
    let info = run("xwininfo", &["-id", id])?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    };
    // xwininfo: window id: 0x20000e "Tasktray"
    let title = info
        .lines()
        .find(|l| l.contains("Window id:"))
        .and_then(|l| Some(l.get(l.find('"')? + 1..l.rfind('"')?)?.to_owned()))
        .unwrap_or_default();
    Ok(XWindow {
        id: id.to_owned(),
        title,
        viewable: field("Map State:") == "IsViewable",
        width: field("Width:").parse().unwrap_or(0),
        height: field("Height:").parse().unwrap_or(0),
    })
}

/// The app's window titled `title`, if it has one.
pub fn window_titled(pid: i32, title: &str) -> Result<XWindow, String> {
    let windows = windows_of(pid)?;
    windows
        .iter()
        .find(|w| w.title == title)
        .cloned()
        .ok_or_else(|| format!("no window titled {title:?} for pid {pid}; it has {windows:?}"))
}

/// Clicks the window's close button, as a window manager does it (Xvfb has none): a
/// `WM_DELETE_WINDOW` message (`stubs/wm.py close`). The app sees a close request.
pub fn close(window: &XWindow) -> Result<(), String> {
    wm(&["close", &window.id])
}

/// Saves the whole screen (the root window) as a PNG, as a person would see it, with what
/// WebDriver cannot show: whether the window is there at all, where, and its frame.
pub fn screenshot(out: &std::path::Path) -> Result<(), String> {
    let out = out.to_str().ok_or("a UTF-8 path")?;
    wm(&["screenshot", out])
}

fn wm(args: &[&str]) -> Result<(), String> {
    let script = crate::env::stubs_dir().join("wm.py");
    let script = script.to_str().ok_or("a UTF-8 path")?;
    let python = crate::env::python();
    let python = python.to_str().ok_or("a UTF-8 path")?;
    run(python, &[&[script], args].concat()).map(|_| ())
}
