//! The local API of the running app: its socket in the user's runtime dir, a task started with
//! `curl --unix-socket` that the window shows live, its request answered over the API, and the
//! socket gone after Quit. Run with tests/e2e/run.sh (skipped otherwise).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tasktray_e2e::ui::task_row;
use tasktray_e2e::{enabled, wait, App, Launch};
use tasktray_test_support::bounded;

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
