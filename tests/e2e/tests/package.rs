//! The Debian package, as a user gets it: `packaging/deb.sh` makes it (`make test` packages the
//! debug build, `make deb` the release build, through the same script) and hands its path in
//! `TASKTRAY_E2E_DEB`. Its contents, unpacked with `dpkg-deb -x` into a temp dir: the binaries
//! and their one version, the shim in /usr/lib/tasktray, a desktop entry that
//! `desktop-file-validate` accepts, the icons, taskctl's completions and manual page, and the
//! Depends that pull WebKitGTK and the tray library. The unpacked `taskctl` runs a task; the
//! unpacked app starts in the tray (its item registers with the watcher stub), runs its tasks
//! through the unpacked shim and hands taskctl's task to it. As root, `apt-get install` of the
//! package puts both programs on PATH and `apt-get remove` takes them away again.
//! Run with `make test-deb` (tests/e2e/run.sh with TASKTRAY_E2E_DEB set; skipped otherwise).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tasktray_e2e::{enabled, wait, App, Launch};
use tasktray_test_support::bounded;

/// How long one command on the package or its programs may take.
const COMMAND: Duration = Duration::from_secs(120);
/// The sizes of the app's icon in the hicolor theme.
const ICON_SIZES: [u32; 6] = [32, 48, 64, 128, 256, 512];
/// The workspace's one version: the app's, taskctl's and the package's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The package under test, or `None` (with the reason printed) when the spec is skipped.
fn package() -> Option<PathBuf> {
    if !enabled() {
        return None;
    }
    match std::env::var_os("TASKTRAY_E2E_DEB").filter(|v| !v.is_empty()) {
        Some(deb) => {
            let deb = PathBuf::from(deb);
            assert!(
                deb.is_file(),
                "TASKTRAY_E2E_DEB={} is no file",
                deb.display()
            );
            Some(deb)
        }
        None => {
            eprintln!(
                "skipped: no package to test; `make test-deb` makes one and sets TASKTRAY_E2E_DEB"
            );
            None
        }
    }
}

/// Runs `command` to its end within [`COMMAND`].
fn run(command: &mut Command) -> Output {
    let what = format!("{command:?}");
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(COMMAND) {
        Ok(output) => output.unwrap_or_else(|e| panic!("{what}: {e}")),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("{what} did not end within {COMMAND:?}");
        }
    }
}

/// Runs `command` and returns its stdout; fails the spec when it does not exit 0.
fn ok(command: &mut Command) -> String {
    let what = format!("{command:?}");
    let out = run(command);
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The package unpacked into a temp dir (removed when dropped).
fn unpack(deb: &Path) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("tasktray-deb-")
        .tempdir()
        .expect("a temp dir");
    ok(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir.path()));
    dir
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[tokio::test]
#[ignore = "a spec of the Debian package: make test-deb runs it"]
async fn the_package_holds_the_programs_the_desktop_entry_icons_completions_and_manual() {
    let Some(deb) = package() else { return };
    bounded(async {
        let field = |name: &str| ok(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name));
        assert_eq!(field("Package").trim(), "tasktray");
        assert_eq!(field("Version").trim(), VERSION);
        let depends = field("Depends");
        for dep in [
            "libwebkit2gtk-4.1-0",
            "libayatana-appindicator3-1",
            "libgtk-3-0",
        ] {
            assert!(depends.contains(dep), "Depends has no {dep}: {depends}");
        }

        let root = unpack(&deb);
        let usr = root.path().join("usr");
        for bin in ["bin/tasktray", "bin/taskctl", "lib/tasktray/tasktray-shim"] {
            assert!(executable(&usr.join(bin)), "no executable /usr/{bin}");
        }
        // One version, printed the same way by both programs (no display needed).
        let app = ok(Command::new(usr.join("bin/tasktray"))
            .arg("--version")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY"));
        let ctl = ok(Command::new(usr.join("bin/taskctl")).arg("--version"));
        assert_eq!(app.trim(), format!("tasktray {VERSION}"));
        assert_eq!(ctl.trim(), format!("taskctl {VERSION}"));

        let entry = usr.join("share/applications/Tasktray.desktop");
        ok(Command::new("desktop-file-validate").arg(&entry));
        let text = std::fs::read_to_string(&entry).expect("read the desktop entry");
        for line in [
            "Exec=tasktray",
            "Icon=tasktray",
            "Type=Application",
            "Name=Tasktray",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
        }
        for size in ICON_SIZES {
            let icon = usr.join(format!(
                "share/icons/hicolor/{size}x{size}/apps/tasktray.png"
            ));
            let png = std::fs::read(&icon).unwrap_or_else(|e| panic!("{}: {e}", icon.display()));
            // The PNG's own width and height (IHDR) are the folder's size.
            let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
            assert_eq!((dim(16), dim(20)), (size, size), "{}", icon.display());
        }

        let bash = usr.join("share/bash-completion/completions/taskctl");
        let script = format!(
            "source {}; complete -p taskctl; COMP_WORDS=(taskctl fo); COMP_CWORD=1; \
             $(complete -p taskctl | sed -E 's/.*-F ([^ ]+).*/\\1/') taskctl fo taskctl; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        );
        let words = ok(Command::new("bash").arg("-c").arg(script));
        assert!(
            words.lines().any(|w| w == "follow"),
            "bash completes `taskctl fo` to: {words}"
        );
        assert!(
            words.lines().any(|w| w == "follow-up"),
            "bash completes `taskctl fo` to: {words}"
        );
        let zsh = std::fs::read_to_string(usr.join("share/zsh/vendor-completions/_taskctl"))
            .expect("the zsh completion");
        assert!(
            zsh.starts_with("#compdef taskctl"),
            "{}",
            &zsh[..zsh.len().min(80)]
        );
        let fish =
            std::fs::read_to_string(usr.join("share/fish/vendor_completions.d/taskctl.fish"))
                .expect("the fish completion");
        assert!(
            fish.contains("complete -c taskctl"),
            "fish: {}",
            &fish[..fish.len().min(200)]
        );

        let man = usr.join("share/man/man1/taskctl.1.gz");
        let page = ok(Command::new("sh")
            .arg("-c")
            .arg(format!("gzip -dc {}", man.display())));
        assert!(
            page.contains(".TH taskctl 1"),
            "{}",
            &page[..page.len().min(200)]
        );
        for command in [
            "RUN",
            "FOLLOW",
            "APPROVE",
            "MERGE",
            "DISCARD",
            "COMPLETIONS",
        ] {
            assert!(
                page.contains(&format!(".SH \"TASKCTL {command}\"")),
                "no {command} section"
            );
        }
        assert!(
            !page.contains("taskctl\\-run(1)") && !page.contains("taskctl-run(1)"),
            "the page names per-command pages the package does not hold"
        );
    })
    .await;
}

#[tokio::test]
#[ignore = "a spec of the Debian package: make test-deb runs it"]
async fn the_unpacked_taskctl_runs_a_task() {
    let Some(deb) = package() else { return };
    bounded(async {
        let root = unpack(&deb);
        let sandbox = tempfile::tempdir().expect("a sandbox");
        let project = sandbox.path().join("project");
        let run_dir = sandbox.path().join("run");
        for dir in [&project, &run_dir] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        // The unpacked taskctl in the sandbox: its HOME, runtime dir and data dir.
        let taskctl = || {
            let mut command = Command::new(root.path().join("usr/bin/taskctl"));
            command
                .env("HOME", sandbox.path())
                .env("XDG_RUNTIME_DIR", &run_dir)
                .env("TASKTRAY_DATA_DIR", sandbox.path().join("data"));
            command
        };
        let out = ok(taskctl()
            .args(["run", "--name", "from the package", "--dir"])
            .arg(&project)
            .arg("fake: say the packaged taskctl ran me")
            .env("TASKTRAY_AGENT", tasktray_e2e::env::agent_bin()));
        assert!(
            out.contains("the packaged taskctl ran me"),
            "taskctl printed:\n{out}"
        );
        let list = ok(taskctl().args(["list", "--json"]));
        assert!(list.contains("\"completed\""), "taskctl list: {list}");
    })
    .await;
}

#[tokio::test]
#[ignore = "a spec of the Debian package: make test-deb runs it"]
async fn the_unpacked_app_starts_in_the_tray_and_runs_tasks_through_its_shim() {
    let Some(deb) = package() else { return };
    bounded(async {
        let root = unpack(&deb);
        let usr = root.path().join("usr");
        let mut app =
            App::launch_bare_of(&usr.join("bin/tasktray"), "package-app", Launch::hidden()).await;
        let tray = app.tray().await;
        let menu = tray.menu().await.expect("the tray's menu");
        assert!(
            menu.find(&["Quit Tasktray"]).is_some(),
            "{}",
            menu.outline()
        );

        // The app found the shim the package put in /usr/lib/tasktray.
        let shim = usr.join("lib/tasktray/tasktray-shim");
        let said = format!("task shim: {}", shim.display());
        wait::until("the app to log its shim", Duration::from_secs(10), || {
            let log = app.log_text();
            if log.contains(&said) {
                Ok(())
            } else {
                Err(log)
            }
        })
        .await;

        // The unpacked taskctl hands its task to the running app, which runs it.
        let project = app.project("packaged");
        let out = run(app
            .command_of(&usr.join("bin/taskctl"))
            .args(["run", "--dir"])
            .arg(&project)
            .arg("fake: say the packaged app ran me"));
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "taskctl: {}\n{stdout}\n{stderr}",
            out.status
        );
        assert!(
            stdout.contains("the packaged app ran me")
                || stderr.contains("the packaged app ran me"),
            "taskctl printed:\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("run by Tasktray"),
            "taskctl said:\n{stderr}"
        );
        app.finish().await;
    })
    .await;
}

/// Removes the package when dropped, however the spec ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        if !installed() {
            return;
        }
        let _ = Command::new("apt-get")
            .args(["remove", "-y", "-qq", "tasktray"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "tasktray"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

#[tokio::test]
#[ignore = "a spec of the Debian package: make test-deb runs it"]
async fn apt_installs_the_package_and_removes_it() {
    let Some(deb) = package() else { return };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: installing the package needs root (CI runs as root)");
        return;
    }
    if installed() {
        eprintln!(
            "skipped: tasktray is installed on this machine already; this spec leaves it alone"
        );
        return;
    }
    bounded(async {
        let deb = std::fs::canonicalize(&deb).expect("the package's path");
        let guard = Installed;
        ok(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .arg(&deb)
            .env("DEBIAN_FRONTEND", "noninteractive"));
        assert!(installed(), "dpkg does not list tasktray as installed");
        let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (program, word) in [("tasktray", "tasktray"), ("taskctl", "taskctl")] {
            let found = ok(Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {program}"))
                .env("PATH", path));
            assert_eq!(found.trim(), format!("/usr/bin/{program}"));
            let version = ok(Command::new(program)
                .arg("--version")
                .env("PATH", path)
                .env_remove("DISPLAY")
                .env_remove("WAYLAND_DISPLAY"));
            assert_eq!(version.trim(), format!("{word} {VERSION}"));
        }
        assert!(executable(Path::new("/usr/lib/tasktray/tasktray-shim")));
        let data = tempfile::tempdir().expect("a data dir");
        ok(Command::new("taskctl")
            .args(["list"])
            .env("PATH", path)
            .env("TASKTRAY_DATA_DIR", data.path()));

        ok(Command::new("apt-get")
            .args(["remove", "-y", "-qq", "tasktray"])
            .env("DEBIAN_FRONTEND", "noninteractive"));
        assert!(
            !installed(),
            "tasktray is still installed after apt-get remove"
        );
        for gone in [
            "/usr/bin/tasktray",
            "/usr/bin/taskctl",
            "/usr/lib/tasktray/tasktray-shim",
        ] {
            assert!(
                !Path::new(gone).exists(),
                "{gone} is left after apt-get remove"
            );
        }
        drop(guard);
    })
    .await;
}
