//! Helpers shared by Tasktray's integration tests: where the workspace's binaries are, polling
//! with a deadline instead of sleeping, an outer timeout for async tests, and process checks.

use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The outer timeout of one integration test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How often [`wait_until`] polls.
const POLL: Duration = Duration::from_millis(10);

/// A binary of this workspace, built next to the running test (`cargo build --workspace`
/// builds them; `make test` does that first).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build the workspace first (`cargo build --workspace --bins`)",
        bin.display()
    );
    bin
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Async form of [`wait_until`], for tests on a tokio runtime.
pub async fn wait_until_async(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The first message of a broadcast channel that `pick` accepts, within `timeout` (a lag is
/// skipped over: the messages lost are not the ones a test waits for once it subscribed).
pub async fn next_broadcast<E: Clone, T>(
    rx: &mut tokio::sync::broadcast::Receiver<E>,
    timeout: Duration,
    mut pick: impl FnMut(&E) -> Option<T>,
) -> T {
    use tokio::sync::broadcast::error::RecvError;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(message)) => {
                if let Some(found) = pick(&message) {
                    return found;
                }
            }
            Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => panic!("the channel closed"),
            Err(_) => panic!("no such message within {timeout:?}"),
        }
    }
}

/// Runs a test body with the outer timeout; a hung test fails instead of hanging CI.
pub async fn bounded<T>(body: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_TIMEOUT, body).await {
        Ok(value) => value,
        Err(_) => panic!("test did not finish within {TEST_TIMEOUT:?}"),
    }
}

/// Live (non-zombie) processes whose environment holds `key=value`.
pub fn processes_with_env(key: &str, value: &str) -> Vec<i32> {
    let entry = format!("{key}={value}");
    let me = std::process::id() as i32;
    pids()
        .into_iter()
        .filter(|&pid| pid != me && state(pid).is_some_and(|s| s != 'Z'))
        .filter(|&pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|kv| kv == entry.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Zombie children of this test process: each is a process someone forgot to reap.
pub fn zombie_children() -> Vec<i32> {
    let me = std::process::id() as i32;
    pids()
        .into_iter()
        .filter(|&pid| stat_fields(pid).is_some_and(|(state, ppid)| state == 'Z' && ppid == me))
        .collect()
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    state(pid).is_some_and(|s| s != 'Z')
}

fn pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn state(pid: i32) -> Option<char> {
    stat_fields(pid).map(|(s, _)| s)
}

fn stat_fields(pid: i32) -> Option<(char, i32)> {
    let raw = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &raw[raw.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// A temp dir for a test: data dir, projects and a home, removed when dropped.
#[derive(Debug)]
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A fresh project folder named `name`.
    pub fn project(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("projects").join(name);
        fs::create_dir_all(&path).expect("create a project folder");
        path
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits for a child process with a deadline; kills it and panics if it does not exit in time.
pub fn wait_child(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {timeout:?}", child.id());
        }
        std::thread::sleep(POLL);
    }
}

/// Runs a command to its end with the outer timeout and returns its output.
pub fn output_of(command: &mut std::process::Command) -> std::process::Output {
    use std::io::Read;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the command");
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = wait_child(&mut child, TEST_TIMEOUT);
    std::process::Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// Runs git in `dir` (no global or system config, so the machine's settings cannot change a
/// test) and returns its stdout; panics with git's words when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = output_of(
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null"),
    );
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes `dir` a git repository on branch `main` with a user identity of its own and one
/// commit holding `README.md`.
pub fn git_repo(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).expect("create the repository folder");
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(dir, &["config", "user.name", "Test User"]);
    git(dir, &["config", "user.email", "test@example.com"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    fs::write(dir.join("README.md"), "hello\n").expect("write README.md");
    git(dir, &["add", "README.md"]);
    git(dir, &["commit", "--quiet", "-m", "first"]);
    dir.to_path_buf()
}
