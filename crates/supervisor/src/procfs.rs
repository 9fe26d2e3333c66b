//! The few facts about processes that Tasktray reads from `/proc`: parent, state and start
//! time (from `/proc/<pid>/stat`) and the environment marker a task's processes carry.
//!
//! Only two fields of one file are needed, so this reads them directly rather than pulling in
//! a general `/proc` crate.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::model::ProcessRef;

/// The fields of `/proc/<pid>/stat` that Tasktray uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: u8,
    pub ppid: i32,
    pub start_ticks: u64,
}

/// Reads `/proc/<pid>/stat`; `None` when the process is gone.
pub fn stat(pid: i32) -> Option<Stat> {
    let raw = fs::read(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&raw)
}

/// Parses a stat line. The command name (field 2) may contain spaces and parentheses, so the
/// fields are counted from the last `)`.
fn parse_stat(raw: &[u8]) -> Option<Stat> {
    let close = raw.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(raw.get(close + 2..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Fields after the name start at 3 (state); start time is field 22.
    let state = fields.next()?.bytes().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let start_ticks = fields.nth(22 - 5)?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        start_ticks,
    })
}

/// The identity of a running process, to recognise it later despite pid reuse.
pub fn process_ref(pid: i32) -> Option<ProcessRef> {
    stat(pid).map(|s| ProcessRef {
        pid,
        start_ticks: s.start_ticks,
    })
}

/// Whether the process `p` names is still the same live (not zombie) process.
pub fn is_alive(p: ProcessRef) -> bool {
    stat(p.pid).is_some_and(|s| s.start_ticks == p.start_ticks && s.state != b'Z')
}

/// The program name of a live process (`/proc/<pid>/comm`, at most 15 bytes).
pub fn command_name(p: ProcessRef) -> Option<String> {
    let name = fs::read_to_string(format!("/proc/{}/comm", p.pid)).ok()?;
    is_alive(p).then(|| name.trim_end().to_owned())
}

fn all_pids() -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every live descendant of `root` (not `root` itself), found by walking parent links.
/// Zombies are left out: they are dead, only waiting to be reaped.
pub fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<(i32, bool)>> = HashMap::new();
    for pid in all_pids() {
        if let Some(s) = stat(pid) {
            children
                .entry(s.ppid)
                .or_default()
                .push((pid, s.state == b'Z'));
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    let mut seen = HashSet::new();
    while let Some(parent) = queue.pop() {
        for &(child, zombie) in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(child) {
                queue.push(child);
                if !zombie {
                    found.push(child);
                }
            }
        }
    }
    found
}

/// Whether the environment block of `pid` holds `key=value`.
fn environ_has(pid: i32, entry: &[u8]) -> bool {
    fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|&b| b == 0).any(|kv| kv == entry))
        .unwrap_or(false)
}

/// Live processes whose environment carries `key=value` (the task marker).
pub fn marked(key: &str, value: &OsStr) -> Vec<i32> {
    let mut entry = Vec::with_capacity(key.len() + 1 + value.len());
    entry.extend_from_slice(key.as_bytes());
    entry.push(b'=');
    entry.extend_from_slice(value.as_bytes());
    let me = std::process::id() as i32;
    all_pids()
        .into_iter()
        .filter(|&pid| pid != me && environ_has(pid, &entry))
        .filter(|&pid| stat(pid).is_some_and(|s| s.state != b'Z'))
        .collect()
}

/// Sends `signal` to each pid, ignoring those already gone.
pub fn signal_all(pids: &[i32], signal: Signal) {
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = b"1234 (we ird) name)) S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: b'S',
                ppid: 77,
                start_ticks: 987654
            })
        );
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id() as i32;
        let s = stat(me).expect("own stat is readable");
        assert_eq!(s.ppid, nix::unistd::getppid().as_raw());
        assert!(is_alive(ProcessRef {
            pid: me,
            start_ticks: s.start_ticks
        }));
        assert!(!is_alive(ProcessRef {
            pid: me,
            start_ticks: s.start_ticks + 1
        }));
    }
}
