//! One `tauri-driver` per spec.
//!
//! The app is started by WebKitWebDriver, which tauri-driver starts, and it inherits their
//! environment: `tauri:options` only carries `application` and `args` (tauri-driver 2.1 turns
//! them into `webkitgtk:browserOptions {binary, args}`; there is no way to pass variables). So
//! each spec starts its own driver with its own HOME and data dir, on free ports. That costs
//! ~20 ms; a shared driver would give every spec the same HOME.

use std::ffi::OsString;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::{env, procs};

/// How long tauri-driver and WebKitWebDriver get to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long tauri-driver gets to exit after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts with fresh ports, when another process takes a port between our probe and the
/// driver's bind.
const START_ATTEMPTS: usize = 3;

/// A running tauri-driver (and the WebKitWebDriver it started).
#[derive(Debug)]
pub struct Driver {
    child: Option<Child>,
    /// The WebDriver endpoint, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Where the driver's, WebKitWebDriver's and the app's stdout and stderr go.
    pub log: PathBuf,
}

impl Driver {
    /// Starts tauri-driver with exactly `vars` on top of this process's environment (minus
    /// `remove`), logging to `log`; returns once both its port and WebKitWebDriver's accept.
    pub async fn start(vars: &[(String, OsString)], remove: &[String], log: &Path) -> Driver {
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(vars, remove, log).await {
                Ok(driver) => return driver,
                Err(e) => last = e,
            }
        }
        panic!("tauri-driver did not start: {last}; see {}", log.display())
    }

    async fn try_start(
        vars: &[(String, OsString)],
        remove: &[String],
        log: &Path,
    ) -> Result<Driver, String> {
        let (port, native_port) = (free_port()?, free_port()?);
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot dup the log: {e}"))?;
        let mut command = Command::new(env::tauri_driver());
        command
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for key in remove {
            command.env_remove(key);
        }
        command.envs(vars.iter().map(|(k, v)| (k, v)));
        let child = command.spawn().map_err(|e| {
            format!(
                "cannot start {} ({e}); install it: cargo install tauri-driver --locked",
                env::tauri_driver().display()
            )
        })?;
        let mut driver = Driver {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = driver
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                driver.child = None;
                return Err(format!("tauri-driver exited with {status}"));
            }
            if accepts(port) && accepts(native_port) {
                return Ok(driver);
            }
            if Instant::now() >= deadline {
                driver.stop();
                return Err(format!(
                    "ports {port}/{native_port} not open after {START_TIMEOUT:?}"
                ));
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }

    /// No driver: for an app started without WebDriver ([`crate::App::launch_bare`]).
    pub fn none() -> Driver {
        Driver {
            child: None,
            url: String::new(),
            log: PathBuf::new(),
        }
    }

    /// tauri-driver's pid (while it runs).
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// tauri-driver and the WebKitWebDriver it started: the harness, not the app.
    pub fn harness_pids(&self) -> Vec<i32> {
        match self.pid() {
            Some(pid) => {
                let mut pids = vec![pid];
                pids.extend(native_drivers(pid));
                pids
            }
            None => Vec::new(),
        }
    }

    /// SIGTERM (tauri-driver then SIGKILLs WebKitWebDriver and exits), SIGKILL after
    /// [`STOP_TIMEOUT`], and a reap. Whatever WebKitWebDriver had started is left to the
    /// caller, which knows the spec's marker.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let native = native_drivers(child.id() as i32);
        procs::signal_all(&[child.id() as i32], Signal::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(crate::wait::POLL),
            }
        }
        procs::signal_all(&native, Signal::SIGKILL);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The WebKitWebDriver children of tauri-driver `pid`.
fn native_drivers(pid: i32) -> Vec<i32> {
    procs::children(pid)
        .into_iter()
        .filter(|&c| procs::exe(c).is_some_and(|e| e.ends_with("WebKitWebDriver")))
        .collect()
}

/// A port nobody listens on now (the kernel picks it; another process may take it before the
/// driver binds it, hence [`START_ATTEMPTS`]).
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn accepts(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
}
