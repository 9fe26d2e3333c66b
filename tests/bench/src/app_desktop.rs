//! Benchmark 8's surroundings: a private desktop (Xvfb, a session bus with no services, the
//! tray watcher stub, the tools that click and close as a panel and a window manager do), and
//! what is read of the app's processes in `/proc` (PSS, descendants, CPU time).

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::Result;

/// How often a condition is polled.
pub const POLL: Duration = Duration::from_millis(5);
/// Memory has settled when this many samples, this far apart, differ by at most 1 % (and
/// [`SETTLE_SLACK_KIB`]); waited for at most [`SETTLE_TIMEOUT`].
const SETTLE_SAMPLES: usize = 4;
const SETTLE_EVERY: Duration = Duration::from_millis(250);
const SETTLE_SLACK_KIB: u64 = 512;
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);

/// The PSS of a process tree, settled.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    pub pss_kib: u64,
    /// Of it: anonymous memory (heaps, JIT) and file pages (mapped libraries, reclaimable).
    pub pss_anon_kib: u64,
    pub pss_file_kib: u64,
    /// Each process: its name and PSS.
    pub processes: Vec<(String, u64)>,
    pub settled: bool,
}

/// Samples the tree's PSS until it settles (or [`SETTLE_TIMEOUT`]); the last sample.
pub(crate) fn settle(pid: i32) -> Tree {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut recent: Vec<u64> = Vec::new();
    loop {
        let tree = pss_tree(pid);
        recent.push(tree.pss_kib);
        if recent.len() > SETTLE_SAMPLES {
            recent.remove(0);
        }
        let (lo, hi) = (
            recent.iter().copied().min().unwrap_or(0),
            recent.iter().copied().max().unwrap_or(0),
        );
        let settled = recent.len() == SETTLE_SAMPLES && hi - lo <= (hi / 100).max(SETTLE_SLACK_KIB);
        if settled || Instant::now() >= deadline {
            return Tree { settled, ..tree };
        }
        std::thread::sleep(SETTLE_EVERY);
    }
}

/// The PSS of `pid` and its descendants now.
fn pss_tree(pid: i32) -> Tree {
    let rollups: Vec<(String, Rollup)> = std::iter::once(pid)
        .chain(descendants(pid))
        .filter_map(|p| Some((name(p), rollup(p)?)))
        .collect();
    let mut processes: Vec<(String, u64)> =
        rollups.iter().map(|(n, r)| (n.clone(), r.pss)).collect();
    processes.sort();
    Tree {
        pss_kib: rollups.iter().map(|(_, r)| r.pss).sum(),
        pss_anon_kib: rollups.iter().map(|(_, r)| r.anon).sum(),
        pss_file_kib: rollups.iter().map(|(_, r)| r.file).sum(),
        processes,
        settled: false,
    }
}

/// `Pss`, `Pss_Anon` and `Pss_File` of `/proc/<pid>/smaps_rollup`, in KiB.
#[derive(Debug, Default)]
struct Rollup {
    pss: u64,
    anon: u64,
    file: u64,
}

fn rollup(pid: i32) -> Option<Rollup> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(Rollup {
        pss: field("Pss:")?,
        anon: field("Pss_Anon:").unwrap_or(0),
        file: field("Pss_File:").unwrap_or(0),
    })
}

fn name(pid: i32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The parent and the user + system CPU ticks of `pid`, from `/proc/<pid>/stat`.
fn stat(pid: i32) -> Option<(i32, u64)> {
    let raw = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = raw.get(raw.rfind(')')? + 2..)?.split(' ').collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((ppid, ticks))
}

/// Every live descendant of `pid`.
pub(crate) fn descendants(pid: i32) -> Vec<i32> {
    let all: Vec<(i32, i32)> = fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter_map(|p: i32| Some((p, stat(p)?.0)))
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub(crate) fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|raw| {
        raw.rfind(')')
            .and_then(|at| raw.get(at + 2..at + 3))
            .is_some_and(|state| state != "Z")
    })
}

pub(crate) fn web_processes(pid: i32) -> usize {
    descendants(pid)
        .into_iter()
        .filter(|&p| name(p).starts_with("WebKitWebProces"))
        .count()
}

/// The CPU the tree of `pid` used over `window`, in % of one core.
pub(crate) fn cpu_percent(pid: i32, window: Duration) -> f64 {
    let ticks = || -> u64 {
        std::iter::once(pid)
            .chain(descendants(pid))
            .filter_map(|p| Some(stat(p)?.1))
            .sum()
    };
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&hz| hz > 0)
        .unwrap_or(100) as f64;
    let (before, started) = (ticks(), Instant::now());
    std::thread::sleep(window);
    let used = ticks().saturating_sub(before) as f64 / hz;
    used / started.elapsed().as_secs_f64() * 100.0
}

pub(crate) fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    wait_value(timeout, || condition().then_some(())).is_some()
}

pub(crate) fn wait_value<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// A private desktop: Xvfb, a D-Bus session bus with no services, the tray watcher stub.
#[derive(Debug)]
pub(crate) struct Desktop {
    /// Its scratch dir: the bus's socket, the stubs' logs, the launches' HOMEs.
    pub dir: PathBuf,
    display: String,
    bus: String,
    /// The watcher stub's record: one JSON line per tray item registered.
    pub sni_record: PathBuf,
    children: Vec<Child>,
}

impl Desktop {
    pub(crate) fn start(dir: &Path) -> Result<Desktop> {
        let mut desktop = Desktop {
            dir: dir.to_path_buf(),
            display: String::new(),
            bus: String::new(),
            sni_record: dir.join("sni.jsonl"),
            children: Vec::new(),
        };
        // Xvfb picks a free display and writes its number on the pipe once it accepts
        // clients. The write end is inherited (nix's pipe() sets no close-on-exec).
        let (read, write) = nix::unistd::pipe()?;
        let xvfb = Command::new("Xvfb")
            .arg("-displayfd")
            .arg(write.as_raw_fd().to_string())
            .args([
                "-noreset",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "1280x800x24",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("xvfb.log"))?)
            .spawn()
            .map_err(|e| format!("cannot start Xvfb ({e}): apt-get install xvfb"))?;
        desktop.children.push(xvfb);
        drop(write);
        let mut number = String::new();
        BufReader::new(fs::File::from(read)).read_line(&mut number)?;
        let number = number.trim();
        if number.is_empty() {
            return Err(format!("Xvfb gave no display; see {}/xvfb.log", dir.display()).into());
        }
        desktop.display = format!(":{number}");

        let config = dir.join("session.conf");
        fs::write(&config, bus_config(dir)?)?;
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start dbus-daemon ({e}): apt-get install dbus"))?;
        let stdout = bus.stdout.take().ok_or("dbus-daemon has no stdout")?;
        desktop.children.push(bus);
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address)?;
        desktop.bus = address.trim().to_owned();
        if desktop.bus.is_empty() {
            return Err("dbus-daemon gave no address".into());
        }

        let ready = dir.join("sni.ready");
        let mut watcher = Command::new(python());
        desktop.env(&mut watcher);
        let watcher = watcher
            .arg(stubs().join("sni_watcher.py"))
            .arg("--record")
            .arg(&desktop.sni_record)
            .arg("--ready")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("sni_watcher.log"))?)
            .spawn()?;
        desktop.children.push(watcher);
        if !wait_for(Duration::from_secs(10), || ready.exists()) {
            return Err(format!(
                "the tray watcher stub did not start (python3-dbus-next?); see {}",
                dir.join("sni_watcher.log").display()
            )
            .into());
        }
        Ok(desktop)
    }

    /// This desktop, for a process started in it.
    pub(crate) fn env(&self, command: &mut Command) {
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("GDK_BACKEND", "x11")
            .env("NO_AT_BRIDGE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XAUTHORITY");
    }

    pub(crate) fn tray_registered_since(&self, offset: u64) -> bool {
        let Ok(record) = fs::read(&self.sni_record) else {
            return false;
        };
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(record.len());
        String::from_utf8_lossy(&record[from..]).contains("\"item-registered\"")
    }

    /// Clicks a tray menu item as a panel does (`tray.py click`).
    pub(crate) fn tray_click(&self, label: &str) -> Result<()> {
        self.tool(
            python(),
            &[&stubs().join("tray.py").to_string_lossy(), "click", label],
        )
        .map(|_| ())
    }

    /// Closes the app's window as a window manager does (`wm.py close`).
    pub(crate) fn close_window(&self) -> Result<()> {
        let tree = self.tool("xwininfo".into(), &["-root", "-children"])?;
        let id = tree
            .lines()
            .find(|l| l.contains(" \"Tasktray\": "))
            .and_then(|l| l.split_whitespace().next())
            .ok_or("no window titled Tasktray")?
            .to_owned();
        self.tool(
            python(),
            &[&stubs().join("wm.py").to_string_lossy(), "close", &id],
        )
        .map(|_| ())
    }

    fn tool(&self, program: PathBuf, args: &[&str]) -> Result<String> {
        let mut command = Command::new(&program);
        self.env(&mut command);
        let out = command.args(args).stdin(Stdio::null()).output()?;
        if !out.status.success() {
            return Err(format!(
                "{} {args:?}: {}",
                program.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            if !wait_for(Duration::from_secs(5), || {
                child.try_wait().ok().flatten().is_some()
            }) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// A session bus with no activatable services (no portal, no accessibility bus): the
/// end-to-end run's config (`stubs/session.conf`), listening in `dir`.
fn bus_config(dir: &Path) -> Result<String> {
    let template = fs::read_to_string(stubs().join("session.conf"))?;
    Ok(template.replace("@LISTEN_DIR@", &dir.display().to_string()))
}

/// The end-to-end specs' stubs: the tray watcher, `tray.py`, `wm.py`.
fn stubs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/stubs")
}

/// Debian's Python, which has dbus-next and gi (`TASKTRAY_E2E_PYTHON` overrides it).
fn python() -> PathBuf {
    std::env::var_os("TASKTRAY_E2E_PYTHON")
        .map_or_else(|| PathBuf::from("/usr/bin/python3"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_holds_this_process() {
        let me = std::process::id() as i32;
        let tree = pss_tree(me);
        assert!(tree.pss_kib > 0, "{tree:?}");
        assert!(stat(me).is_some_and(|(ppid, _)| ppid > 0));
    }
}
