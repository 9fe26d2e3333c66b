//! The local API of the running app: its socket in the user's runtime dir, a task started with
//! `curl --unix-socket` that the window shows live, its request answered over the API, and the
//! socket gone after Quit. Run with tests/e2e/run.sh (skipped otherwise).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tasktray_e2e::ui::{task_row, tid};
use tasktray_e2e::{enabled, wait, App, Launch};
use tasktray_test_support::{bounded, workspace_bin};

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the window or the socket gets to follow.
const REACT: Duration = Duration::from_secs(10);

/// `curl --unix-socket SOCKET` with `args`; the body, parsed as JSON (or `null` when empty).
async fn curl(socket: &Path, args: &[&str]) -> Value {
    let out = tokio::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail-with-body",
            "--max-time",
            "15",
        ])
        .arg("--unix-socket")
        .arg(socket)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("run curl");
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "curl {args:?}: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }
}

fn socket_of(app: &App) -> PathBuf {
    app.sandbox().join("run/tasktray/api.sock")
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_started_over_the_api_shows_in_the_window_and_is_answered_over_it() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("api", Launch::default()).await;
        let tray = app.tray().await;
        let socket = socket_of(&app);
        wait::until("the API socket", REACT, || {
            std::fs::metadata(&socket)
                .ok()
                .filter(|m| m.file_type().is_socket())
                .ok_or_else(|| format!("no socket at {}", socket.display()))
        })
        .await;
        let mode = std::fs::metadata(&socket)
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the socket is the user's alone");
        let dir_mode = std::fs::metadata(socket.parent().expect("folder"))
            .expect("folder")
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);

        let project = app.project("p");
        let request = json!({
            "name": "over the api",
            "prompt": "fake: ask Bash touch made.txt; say over",
            "project_dir": project,
        });
        let created = curl(
            &socket,
            &["-d", &request.to_string(), "http://localhost/v1/tasks"],
        )
        .await;
        let id = created["id"].as_u64().expect("the new task's id");
        // The window lists it at once, and shows it waiting for the answer.
        app.wait_shown(&task_row(id), REACT).await;
        let approvals = wait::until_async("the request over the API", REACT, || async {
            let list = curl(&socket, &["http://localhost/v1/approvals"]).await;
            match list["approvals"].as_array() {
                Some(open) if !open.is_empty() => Ok(open.clone()),
                _ => Err(list.to_string()),
            }
        })
        .await;
        assert_eq!(approvals[0]["task"], id);
        assert_eq!(approvals[0]["tool"], "Bash");
        let request_id = approvals[0]["request_id"].as_str().expect("a request id");
        let answer = format!("http://localhost/v1/tasks/{id}/approvals/{request_id}");
        curl(&socket, &["-d", r#"{"decision":"allow"}"#, &answer]).await;
        let done = curl(
            &socket,
            &[&format!(
                "http://localhost/v1/tasks/{id}/wait?timeout_ms=20000"
            )],
        )
        .await;
        assert_eq!(done["status"], "completed", "{done:#}");
        assert!(project.join("made.txt").exists());
        app.wait_row_status(id, "completed", FINISH).await;

        // Quit ends the server with the app: the socket goes too.
        tray.click("Quit Tasktray").await.expect("click Quit");
        wait::until("the socket to go", REACT, || {
            (!socket.exists())
                .then_some(())
                .ok_or_else(|| "still there".to_owned())
        })
        .await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_run_by_taskctl_shows_live_in_the_window_and_is_cancelled_there() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("api-taskctl", Launch::default()).await;
        let socket = socket_of(&app);
        wait::until("the API socket", REACT, || {
            socket
                .exists()
                .then_some(())
                .ok_or_else(|| "no socket yet".to_owned())
        })
        .await;
        let project = app.project("p");
        let mut run = app
            .command_of(&workspace_bin("taskctl"))
            .args(["run", "--name", "from the terminal", "--dir"])
            .arg(&project)
            .arg("fake: say from the terminal; sleep 300")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("taskctl run");
        // The app runs it: the window lists it live, as running.
        app.wait_row_status(1, "running", REACT).await;
        app.click(&task_row(1)).await;
        app.wait_text(&tid("entry-text"), "from the terminal", REACT)
            .await;
        app.click(&tid("task-cancel")).await;
        let status = wait::until("taskctl to end", FINISH, || {
            run.try_wait()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "still running".to_owned())
        })
        .await;
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut run.stderr.take().expect("stderr"), &mut stderr)
            .expect("stderr");
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("run by Tasktray"), "{stderr}");
        assert!(stderr.contains("task 1 cancelled"), "{stderr}");
        app.finish().await;
    })
    .await;
}
