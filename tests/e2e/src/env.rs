//! What `run.sh` hands to the specs, and where the binaries, stubs and artifacts are.
//!
//! Every path can be overridden by an environment variable, so the specs can also run against
//! binaries built elsewhere (another profile, another target dir).

use std::path::{Path, PathBuf};

/// Set to `1` by `run.sh`; without it every spec returns at once (and counts as passed), so
/// `cargo test --workspace` outside Xvfb and a private bus does not fail.
pub const ENABLE_VAR: &str = "TASKTRAY_E2E";

/// Whether end-to-end specs run here. Prints why a spec is skipped when they do not.
pub fn enabled() -> bool {
    if std::env::var(ENABLE_VAR).as_deref() == Ok("1") {
        return true;
    }
    eprintln!(
        "skipped: an end-to-end spec; run it with \
         `tests/e2e/run.sh cargo test -p tasktray-e2e -- --include-ignored --test-threads=1` (sets {ENABLE_VAR}=1)"
    );
    false
}

fn var_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn required(name: &str) -> PathBuf {
    var_path(name).unwrap_or_else(|| {
        panic!("{name} is not set: run the end-to-end specs through tests/e2e/run.sh")
    })
}

/// `target/<profile>` of the running test binary (`target/<profile>/deps/<test>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// A binary of the workspace: `$TASKTRAY_E2E_BIN_DIR/<name>`, else next to the test binary.
pub fn bin(name: &str) -> PathBuf {
    let dir = var_path("TASKTRAY_E2E_BIN_DIR").unwrap_or_else(profile_dir);
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p tasktray -p supervisor -p taskctl -p fake-claude --bins`; run.sh does)",
        bin.display()
    );
    bin
}

/// The app under test.
pub fn app_bin() -> PathBuf {
    bin("tasktray")
}

/// The scripted agent the app runs instead of `claude`.
pub fn agent_bin() -> PathBuf {
    bin("fake-claude")
}

/// Where specs leave screenshots and logs: `$TASKTRAY_E2E_ARTIFACTS`, else `target/e2e`.
pub fn artifacts_root() -> PathBuf {
    var_path("TASKTRAY_E2E_ARTIFACTS").unwrap_or_else(|| {
        profile_dir()
            .parent()
            .expect("target/<profile> has a parent")
            .join("e2e")
    })
}

/// `tests/e2e/stubs`.
pub fn stubs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("stubs")
}

/// The Python that has dbus-next (Debian's, not a pyenv one on `PATH`).
pub fn python() -> PathBuf {
    var_path("TASKTRAY_E2E_PYTHON").unwrap_or_else(|| PathBuf::from("/usr/bin/python3"))
}

/// `tauri-driver`: `$TASKTRAY_E2E_TAURI_DRIVER` (run.sh sets it), else found on `PATH`.
pub fn tauri_driver() -> PathBuf {
    var_path("TASKTRAY_E2E_TAURI_DRIVER").unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

/// The file `notifyd.py` records Notify calls in.
pub fn notify_record() -> PathBuf {
    required("TASKTRAY_E2E_NOTIFY_RECORD")
}

/// The file `sni_watcher.py` records registrations in.
pub fn sni_record() -> PathBuf {
    required("TASKTRAY_E2E_SNI_RECORD")
}
