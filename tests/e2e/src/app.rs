//! One spec's app: a sandbox, its own tauri-driver, a WebDriver session on the app's webview,
//! and cleanup that leaves nothing behind.

use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder};
use nix::sys::signal::Signal;
use serde_json::json;

use crate::driver::Driver;
use crate::procs::{self, MARKER_ENV};
use crate::tray::{Tray, TRAY_TIMEOUT};
use crate::{env, notifications, records, wait, x11};

/// How long WebKitWebDriver gets to start the app and connect to its webview.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the page gets to load.
const LOAD_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the app and its helpers get to be gone at the end of a spec.
const GONE_TIMEOUT: Duration = Duration::from_secs(10);

/// One app at a time: all specs share one session bus, where the app's single-instance name
/// lives, and one watcher and notification server. Held for the life of an [`App`].
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static SUBREAPER: Once = Once::new();

/// How to start the app.
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// Arguments for `tasktray` (e.g. `--hidden`).
    pub args: Vec<String>,
    /// Extra environment for the app, on top of the sandbox's.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// Started as at login: tray only, window hidden.
    pub fn hidden() -> Launch {
        Launch {
            args: vec!["--hidden".into()],
            ..Launch::default()
        }
    }
}

/// The app under test. End a spec with [`App::finish`]; dropping it instead (a failed spec)
/// kills everything it started.
#[derive(Debug)]
pub struct App {
    /// The spec's name: its artifacts dir.
    pub spec: String,
    /// The value of [`MARKER_ENV`] in all its processes.
    pub marker: String,
    /// `None` only while a relaunch moves it to the next app.
    sandbox: Option<tempfile::TempDir>,
    artifacts: PathBuf,
    vars: Vec<(String, OsString)>,
    driver: Driver,
    client: Option<Client>,
    pid: i32,
    sni_offset: u64,
    notify_offset: u64,
    tray: Option<Tray>,
    notify_hang: Option<notifications::HangGuard>,
    finished: bool,
    /// `None` only while a relaunch moves it to the next app.
    one_app: Option<tokio::sync::MutexGuard<'static, ()>>,
    /// The app process, when this spec started it ([`App::launch_bare`]).
    bare: Option<std::process::Child>,
}

impl App {
    /// Starts the app in a fresh sandbox (HOME, data dir, TMPDIR, XDG dirs), through its own
    /// tauri-driver; returns once the webview's page has loaded.
    pub async fn launch(spec: &str, launch: Launch) -> App {
        let one_app = ONE_APP.lock().await;
        SUBREAPER.call_once(procs::become_subreaper);

        let sandbox = new_sandbox(spec);
        Self::start(spec, launch, sandbox, one_app).await
    }

    /// Ends this app as [`App::finish`] does (asserting that nothing of it is left), then
    /// starts the app again in the same sandbox (same HOME, data dir and projects), as a user
    /// does after a quit or a reboot. `spec` names the new app's artifacts dir.
    pub async fn relaunch(mut self, spec: &str, launch: Launch) -> App {
        self.end().await;
        let sandbox = self.sandbox.take().expect("the sandbox is there");
        let one_app = self.one_app.take().expect("the app lock is held");
        Self::start(spec, launch, sandbox, one_app).await
    }

    /// Starts the app binary itself in a fresh sandbox, as a login session does: no
    /// tauri-driver, no WebDriver session ([`App::client`] panics), so nothing makes the app
    /// build a webview it would not build by itself (a WebDriver session needs one). Returns
    /// once the app process runs; [`App::finish`] quits it from the tray.
    pub async fn launch_bare(spec: &str, launch: Launch) -> App {
        Self::launch_bare_of(&env::app_bin(), spec, launch).await
    }

    /// [`App::launch_bare`] with another `tasktray` binary than the workspace's (one unpacked
    /// from the package, say).
    pub async fn launch_bare_of(program: &Path, spec: &str, launch: Launch) -> App {
        let one_app = ONE_APP.lock().await;
        SUBREAPER.call_once(procs::become_subreaper);
        let sandbox = new_sandbox(spec);
        let (artifacts, marker, vars) = prepare(spec, &launch, sandbox.path());
        let sni_offset = records::offset(&env::sni_record());
        let notify_offset = notifications::offset();
        let log = File::create(artifacts.join("app.log")).expect("create the app's log");
        let child = sandboxed(program, &vars)
            .args(&launch.args)
            .stdout(log.try_clone().expect("dup the log"))
            .stderr(log)
            .spawn()
            .expect("start tasktray");
        App {
            spec: spec.to_owned(),
            marker,
            sandbox: Some(sandbox),
            artifacts,
            vars,
            driver: Driver::none(),
            client: None,
            pid: child.id() as i32,
            sni_offset,
            notify_offset,
            tray: None,
            notify_hang: None,
            finished: false,
            one_app: Some(one_app),
            bare: Some(child),
        }
    }

    async fn start(
        spec: &str,
        launch: Launch,
        sandbox: tempfile::TempDir,
        one_app: tokio::sync::MutexGuard<'static, ()>,
    ) -> App {
        let (artifacts, marker, vars) = prepare(spec, &launch, sandbox.path());

        let sni_offset = records::offset(&env::sni_record());
        let notify_offset = notifications::offset();
        // Until the App exists to clean up, a failed launch kills what it started.
        let launching = KillOnDrop(Some(marker.clone()));
        let driver = Driver::start(&vars, &inherited_to_drop(), &artifacts.join("app.log")).await;

        let app_bin = env::app_bin();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": app_bin, "args": launch.args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps);
        let connect = builder.connect(&driver.url);
        let client = match tokio::time::timeout(SESSION_TIMEOUT, connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("no WebDriver session: {e}; see {}", driver.log.display()),
            Err(_) => panic!(
                "no WebDriver session within {SESSION_TIMEOUT:?}; see {}",
                driver.log.display()
            ),
        };

        let harness = driver.harness_pids();
        let pid = wait::until("the app's process", Duration::from_secs(5), || {
            harness
                .iter()
                .flat_map(|&p| procs::children(p))
                .find(|&c| procs::exe(c).is_some_and(|e| same_file(&e, &app_bin)))
                .ok_or_else(|| format!("children of {harness:?}"))
        })
        .await;

        launching.disarm();
        let app = App {
            spec: spec.to_owned(),
            marker,
            sandbox: Some(sandbox),
            artifacts,
            vars,
            driver,
            client: Some(client),
            pid,
            sni_offset,
            notify_offset,
            tray: None,
            notify_hang: None,
            finished: false,
            one_app: Some(one_app),
            bare: None,
        };
        wait::until_async("the page to load", LOAD_TIMEOUT, || async {
            match app
                .client()
                .execute("return document.readyState", vec![])
                .await
            {
                Ok(state) if state == "complete" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        app
    }

    /// The WebDriver session on the app's webview.
    pub fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open (an app from `launch_bare` has none)")
    }

    /// Points the WebDriver session at the app's window once more, after the window was
    /// closed (destroyed) and built again: the new webview is another browsing context of the
    /// session. Returns once its page has loaded.
    pub async fn follow_window(&self) {
        wait::until_async("the new window's page to load", LOAD_TIMEOUT, || async {
            let client = self.client();
            let handles = client.windows().await.map_err(|e| format!("{e:?}"))?;
            let newest = handles.last().cloned().ok_or("no window in the session")?;
            client
                .switch_to_window(newest)
                .await
                .map_err(|e| format!("switch: {e:?}"))?;
            match client.execute("return document.readyState", vec![]).await {
                Ok(state) if state == "complete" => Ok(()),
                other => Err(format!("{} windows; the newest: {other:?}", handles.len())),
            }
        })
        .await;
    }

    /// The app's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits until the app's main window (titled "Tasktray") is shown (mapped); returns it.
    pub async fn main_window_shown(&self, timeout: Duration) -> x11::XWindow {
        wait::until("the main window to be shown", timeout, || {
            let window = x11::window_titled(self.pid, "Tasktray")?;
            if window.viewable {
                Ok(window)
            } else {
                Err(format!("{window:?}"))
            }
        })
        .await
    }

    pub fn sandbox(&self) -> &Path {
        self.sandbox.as_ref().expect("the sandbox is there").path()
    }

    pub fn home(&self) -> PathBuf {
        self.sandbox().join("home")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.sandbox().join("data")
    }

    /// A fresh project folder in the sandbox.
    pub fn project(&self, name: &str) -> PathBuf {
        let dir = self.sandbox().join("projects").join(name);
        fs::create_dir_all(&dir).expect("create a project folder");
        dir
    }

    /// `target/e2e/<spec>`: screenshots, `app.log` (the driver's and the app's output) and
    /// `tasktray.log` (the app's own log file, copied at the end).
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// A command that starts the app binary as this spec's app was started (same sandbox and
    /// marker, no WebDriver), e.g. a second launch.
    pub fn command(&self) -> std::process::Command {
        self.command_of(&env::app_bin())
    }

    /// A command that runs `program` (e.g. `taskctl`) in this spec's sandbox, as a terminal of
    /// the same user would: the same HOME, runtime dir, data dir and marker.
    pub fn command_of(&self, program: &Path) -> std::process::Command {
        sandboxed(program, &self.vars)
    }

    /// `taskctl` (the workspace's binary) as [`App::command_of`] runs it: it finds the app's
    /// API socket in the sandbox's runtime dir and its data dir in the sandbox.
    pub fn taskctl(&self) -> std::process::Command {
        self.command_of(&env::bin("taskctl"))
    }

    /// Waits until the page has painted what its DOM holds now: two animation frames (the
    /// first runs before the next paint, the second after it). A screenshot taken right after
    /// a view change can otherwise show an older frame while the machine is busy: WebKit
    /// snapshots what the web process last painted, and the DOM runs ahead of that.
    async fn painted(&self) {
        const FRAMES: &str = "const done = arguments[0]; \
            requestAnimationFrame(() => requestAnimationFrame(() => done(null)));";
        let frames = self.client().execute_async(FRAMES, vec![]);
        if !matches!(
            tokio::time::timeout(Duration::from_secs(10), frames).await,
            Ok(Ok(_))
        ) {
            eprintln!("e2e: the page did not paint two frames within 10 s; screenshot anyway");
        }
    }

    /// Saves a screenshot of the webview as `<artifacts>/<name>.png`, once the page has painted.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.painted().await;
        let png = self.client().screenshot().await.expect("take a screenshot");
        let path = self.artifacts.join(format!("{name}.png"));
        fs::write(&path, png).expect("save the screenshot");
        path
    }

    /// Saves a screenshot of the webview as `target/e2e/screenshots/<name>.png`, the gallery
    /// of the main views that a person looks at (kept across specs, overwritten by name).
    pub async fn gallery_screenshot(&self, name: &str) -> PathBuf {
        self.painted().await;
        let png = self.client().screenshot().await.expect("take a screenshot");
        let dir = env::artifacts_root().join("screenshots");
        fs::create_dir_all(&dir).expect("create the screenshots dir");
        let path = dir.join(format!("{name}.png"));
        fs::write(&path, png).expect("save the screenshot");
        path
    }

    /// The app's tray item; waits for it to register.
    pub async fn tray(&mut self) -> Tray {
        if self.tray.is_none() {
            self.tray = Some(Tray::registered_since(self.sni_offset, TRAY_TIMEOUT).await);
        }
        self.tray.clone().expect("set above")
    }

    /// Whether the watcher saw the tray item go away.
    pub fn tray_unregistered(&self) -> bool {
        self.tray
            .as_ref()
            .is_some_and(|t| t.unregistered_since(self.sni_offset))
    }

    /// Makes the notification server stop answering Notify, as a stuck server does, until the
    /// end of the spec. (Held by the app, so it ends before the next spec can start.)
    pub fn hang_notifications(&mut self) {
        self.notify_hang = Some(notifications::hang());
    }

    /// The notifications shown since the app started.
    pub fn notifications(&self) -> Vec<notifications::Note> {
        notifications::since(self.notify_offset)
    }

    /// The notifications this app closed itself.
    pub fn closed_notifications(&self) -> Vec<u32> {
        notifications::closed_since(self.notify_offset)
    }

    /// Whether the app process has exited.
    pub fn exited(&self) -> bool {
        !procs::alive(self.pid)
    }

    /// Live processes of this spec other than tauri-driver and WebKitWebDriver: the app, its
    /// WebKit helpers, task shims and agents, a second instance.
    pub fn leftovers(&self) -> Vec<i32> {
        let harness = self.driver.harness_pids();
        procs::marked(MARKER_ENV, &self.marker)
            .into_iter()
            .filter(|p| !harness.contains(p))
            .collect()
    }

    /// Waits until none of [`App::leftovers`] is alive; says which are when time runs out.
    pub async fn wait_nothing_left(&self, timeout: Duration) -> Result<(), String> {
        let mut left = Vec::new();
        if wait::holds_within(timeout, || {
            left = self.leftovers();
            left.is_empty()
        })
        .await
        {
            Ok(())
        } else {
            Err(procs::describe_all(&left))
        }
    }

    /// Ends the spec: closes the session (WebKitWebDriver then ends the app), stops the
    /// driver, and asserts that no process of the spec is left.
    pub async fn finish(mut self) {
        self.end().await;
    }

    async fn end(&mut self) {
        if let Some(client) = self.client.take() {
            // After a Quit the app is gone and the close fails; that is fine.
            let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        } else if self.driver.pid().is_none() && !self.exited() {
            // Started bare and not quit by the spec: as a session's end would.
            procs::signal_all(&[self.pid], Signal::SIGTERM);
        }
        let left = self.wait_nothing_left(GONE_TIMEOUT).await;
        self.teardown();
        if let Err(left) = left {
            panic!("processes left {GONE_TIMEOUT:?} after the app's end (killed now):\n{left}");
        }
    }

    /// Kills whatever is left, stops the driver, keeps the logs.
    fn teardown(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        procs::signal_all(&self.leftovers(), Signal::SIGKILL);
        self.driver.stop();
        // Anything started under the driver that survived it.
        procs::signal_all(&procs::marked(MARKER_ENV, &self.marker), Signal::SIGKILL);
        if let Some(mut bare) = self.bare.take() {
            let _ = bare.kill();
            let _ = bare.wait();
        }
        procs::reap_orphans(&[]);
        self.keep_app_log();
        self.notify_hang = None;
    }

    /// The app's own log file (Tauri's app log dir in the sandbox's HOME): today's
    /// `tasktray.log.<date>`, the newest of them.
    pub fn log_path(&self) -> PathBuf {
        let dir = self.home().join(".local/share/dev.tasktray.app/logs");
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("tasktray.log"))
            })
            .collect();
        files.sort();
        files.pop().unwrap_or_else(|| dir.join("tasktray.log"))
    }

    /// What the app has logged so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn keep_app_log(&self) {
        let log = self.log_path();
        if log.is_file() {
            let _ = fs::copy(&log, self.artifacts.join("tasktray.log"));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // A spec that failed or timed out: no await here, so no polite session close.
        self.client = None;
        self.teardown();
    }
}

/// Kills every process carrying the marker when dropped, unless disarmed.
struct KillOnDrop(Option<String>);

impl KillOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(marker) = &self.0 {
            procs::signal_all(&procs::marked(MARKER_ENV, marker), Signal::SIGKILL);
        }
    }
}

/// Variables of the test's own environment that the app must not see: the harness's
/// `TASKTRAY_E2E*` settings and any Tasktray or Claude Code setting of the user running the
/// tests. (The user's XDG dirs are replaced by the sandbox's.) `TASKTRAY_E2E_RUN` stays: run.sh
/// finds the processes of its run by it.
fn inherited_to_drop() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| {
            (k.starts_with("TASKTRAY_") && k != "TASKTRAY_E2E_RUN") || k.starts_with("CLAUDE")
        })
        .collect()
}

/// The spec's sandbox: a temp dir, removed when dropped.
fn new_sandbox(spec: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("tasktray-e2e-{spec}-"))
        .tempdir()
        .expect("create the spec's sandbox")
}

/// `program` with the sandbox's environment `vars` instead of the inherited settings
/// ([`inherited_to_drop`]), stdin from /dev/null.
fn sandboxed(program: &Path, vars: &[(String, OsString)]) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    for key in inherited_to_drop() {
        command.env_remove(key);
    }
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    command.stdin(std::process::Stdio::null());
    command
}

/// A fresh sandbox's folders, the spec's artifacts dir (emptied) and marker, and the app's
/// environment: the sandbox's HOME, XDG dirs, TMPDIR, data dir, the fake agent, the marker.
fn prepare(spec: &str, launch: &Launch, root: &Path) -> (PathBuf, String, Vec<(String, OsString)>) {
    for dir in ["home", "data", "tmp", "run", "projects"] {
        fs::create_dir_all(root.join(dir)).expect("create a sandbox dir");
    }
    set_mode_700(&root.join("run"));
    let artifacts = env::artifacts_root().join(spec);
    let _ = fs::remove_dir_all(&artifacts);
    fs::create_dir_all(&artifacts).expect("create the artifacts dir");

    let marker = format!("{spec}-{}-{}", std::process::id(), nanos());
    let home = root.join("home");
    let mut vars: Vec<(String, OsString)> = vec![
        ("HOME".into(), home.clone().into()),
        ("XDG_CONFIG_HOME".into(), home.join(".config").into()),
        ("XDG_DATA_HOME".into(), home.join(".local/share").into()),
        ("XDG_STATE_HOME".into(), home.join(".local/state").into()),
        ("XDG_CACHE_HOME".into(), home.join(".cache").into()),
        ("XDG_RUNTIME_DIR".into(), root.join("run").into()),
        // tray-icon writes its icon PNGs to $XDG_RUNTIME_DIR, else the temp dir.
        ("TMPDIR".into(), root.join("tmp").into()),
        ("TASKTRAY_DATA_DIR".into(), root.join("data").into()),
        ("TASKTRAY_AGENT".into(), env::agent_bin().into()),
        (MARKER_ENV.into(), marker.clone().into()),
        // No accessibility bus: nothing on the test bus would answer it.
        ("NO_AT_BRIDGE".into(), "1".into()),
        // A task in bypassPermissions mode is refused by claude (and fake-claude) as root
        // unless IS_SANDBOX=1; CI runs as root.
        ("IS_SANDBOX".into(), "1".into()),
    ];
    vars.extend(launch.env.iter().map(|(k, v)| (k.clone(), v.into())));
    (artifacts, marker, vars)
}

fn set_mode_700(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
