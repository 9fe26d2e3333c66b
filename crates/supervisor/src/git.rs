//! The git command line, as Tasktray runs it: the user's own git, so their hooks, config,
//! signing and credential helpers behave as they expect; machine-readable output (`-z`,
//! `--porcelain`) in a fixed environment (`LC_ALL=C`, no terminal prompts).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The oldest git with `merge-tree --write-tree`, which checks a merge without touching the
/// working tree.
const MIN_VERSION: (u32, u32) = (2, 38);

/// Most bytes of a diff read from git; git is stopped there and the diff is cut.
pub(crate) const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// git in one folder.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    dir: PathBuf,
}

impl Git {
    /// git in `dir`, once git was found and is new enough.
    pub(crate) fn new(dir: &Path) -> Result<Self> {
        check_version()?;
        Ok(Git {
            dir: dir.to_path_buf(),
        })
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            // A merge or commit never opens an editor: Tasktray writes the messages.
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null());
        command
    }

    /// Runs git and returns what it printed and its exit code, whatever the code.
    pub(crate) fn output<I, S>(&self, args: I) -> Result<(i32, String, String)>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.raw(args)?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    fn raw<I, S>(&self, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args).output().map_err(|e| start_failed(&e))
    }

    /// Runs git; a non-zero exit is an error naming `action` and git's own words.
    pub(crate) fn run<I, S>(&self, action: &str, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (code, stdout, stderr) = self.output(args)?;
        if code != 0 {
            return Err(failed(action, &stderr, &stdout));
        }
        Ok(stdout)
    }

    /// Runs git and reads at most `max` bytes of what it prints: beyond them git is stopped
    /// and the text cut (`true`). A non-zero exit of a git that was not stopped is an error.
    pub(crate) fn run_capped<I, S>(
        &self,
        action: &str,
        args: I,
        max: usize,
    ) -> Result<(String, bool)>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Read;
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| start_failed(&e))?;
        // Read on a thread of its own, so a git that writes much there never blocks.
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let mut out = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = stdout.take(max as u64 + 1).read_to_end(&mut out);
        }
        let cut = out.len() > max;
        if cut {
            out.truncate(max);
            let _ = child.kill();
        }
        let status = child.wait().map_err(|e| start_failed(&e))?;
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let mut text = String::from_utf8_lossy(&out).into_owned();
        if cut {
            // A character the cut split in two.
            text.truncate(text.trim_end_matches('\u{fffd}').len());
        } else if !status.success() {
            return Err(failed(action, &stderr, &text));
        }
        Ok((text, cut))
    }

    /// Runs git for a yes/no answer: exit 0 is yes, 1 is no, anything else an error.
    pub(crate) fn check<I, S>(&self, action: &str, args: I) -> Result<bool>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let (code, stdout, stderr) = self.output(args)?;
        match code {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(failed(action, &stderr, &stdout)),
        }
    }

    /// The top level of the repository around this folder.
    pub(crate) fn toplevel(&self) -> Result<PathBuf> {
        let (code, stdout, _) = self.output(["rev-parse", "--show-toplevel"])?;
        if code != 0 || stdout.trim().is_empty() {
            return Err(Error::NotARepository {
                path: self.dir.clone(),
            });
        }
        Ok(PathBuf::from(stdout.trim_end_matches('\n')))
    }

    /// The checked-out branch's short name; none when HEAD is detached.
    pub(crate) fn branch(&self) -> Result<Option<String>> {
        let (code, stdout, _) = self.output(["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok((code == 0).then(|| stdout.trim().to_string()))
    }

    /// The commit a revision names.
    pub(crate) fn commit_of(&self, rev: &str) -> Result<Option<String>> {
        let (code, stdout, _) = self.output([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])?;
        Ok((code == 0).then(|| stdout.trim().to_string()))
    }

    /// Paths with uncommitted changes (staged, unstaged or untracked), both sides of a rename.
    pub(crate) fn dirty_paths(&self) -> Result<Vec<String>> {
        let out = self.run(
            "read the folder's status",
            ["status", "--porcelain=v1", "-z", "--untracked-files=all"],
        )?;
        let mut paths = Vec::new();
        let mut fields = out.split('\0').filter(|f| !f.is_empty());
        while let Some(entry) = fields.next() {
            let (code, path) = entry.split_at(entry.len().min(3));
            paths.push(path.to_string());
            // A rename or copy is followed by its source path.
            if code.starts_with('R') || code.starts_with('C') {
                if let Some(from) = fields.next() {
                    paths.push(from.to_string());
                }
            }
        }
        Ok(paths)
    }
}

fn start_failed(e: &std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::GitMissing,
        _ => Error::Git {
            action: "start".into(),
            message: e.to_string(),
        },
    }
}

fn failed(action: &str, stderr: &str, stdout: &str) -> Error {
    let words = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let message: Vec<&str> = words
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    Error::Git {
        action: action.to_string(),
        message: if message.is_empty() {
            "it failed without saying why".to_string()
        } else {
            message.join(" ")
        },
    }
}

/// git's version, checked once per process.
fn check_version() -> Result<()> {
    static FOUND: OnceLock<std::result::Result<(), Option<String>>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let out = Command::new("git")
            .arg("--version")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .map_err(|_| None)?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let version = text.trim().trim_start_matches("git version ").to_string();
        match parse_version(&version) {
            Some(v) if v >= MIN_VERSION => Ok(()),
            _ => Err(Some(version)),
        }
    });
    match found {
        Ok(()) => Ok(()),
        Err(None) => Err(Error::GitMissing),
        Err(Some(version)) => Err(Error::GitTooOld {
            version: version.clone(),
        }),
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_vendor_suffixes() {
        assert_eq!(parse_version("2.47.3"), Some((2, 47)));
        assert_eq!(parse_version("2.39.5 (Apple Git-154)"), Some((2, 39)));
        assert_eq!(parse_version("2.34.1.windows.1"), Some((2, 34)));
        assert_eq!(parse_version("garbage"), None);
        assert!(parse_version("2.34.1").unwrap() < MIN_VERSION);
    }

    #[test]
    fn a_capped_read_stops_at_its_bound() {
        let dir = tempfile::tempdir().expect("temp dir");
        let git = Git::new(dir.path()).expect("git");
        let (whole, cut) = git
            .run_capped("ask the version", ["--version"], 1024)
            .expect("version");
        assert!(whole.starts_with("git version") && !cut, "{whole:?}");
        let (part, cut) = git
            .run_capped("ask the version", ["--version"], 5)
            .expect("version");
        assert_eq!((part.as_str(), cut), ("git v", true));
        // Outside a repository `git log` fails, and says why.
        let e = git
            .run_capped("read the log", ["log"], 1024)
            .expect_err("not a repository");
        assert!(e.to_string().contains("not a git repository"), "{e}");
    }

    #[test]
    fn a_failure_keeps_gits_words_without_hints() {
        let e = failed(
            "merge",
            "error: Your local changes would be overwritten\nhint: commit them\n",
            "",
        );
        assert_eq!(
            e.to_string(),
            "git could not merge: error: Your local changes would be overwritten"
        );
    }
}
