//! The window exists only while it is shown: closing it destroys it and WebKit's web process
//! goes away, the app lives on in the tray; Show, a task in the tray menu, a notification's
//! Show, a second launch and Quit's question build it again, on the view they asked for.
//! Started `--hidden`, the app builds no window at all. Run with tests/e2e/run.sh.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tasktray_e2e::ui::{task_row, tid};
use tasktray_e2e::{enabled, notifications, procs, wait, x11, App, Launch};
use tasktray_test_support::bounded;

/// How long a window, a process or the UI gets to follow a click.
const REACT: Duration = Duration::from_secs(15);
/// How long a fake task gets to finish.
const FINISH: Duration = Duration::from_secs(20);

/// `curl --unix-socket <the app's API socket>` with `args`; the body, parsed as JSON.
async fn api(app: &App, args: &[&str]) -> Result<Value, String> {
    let out = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--fail-with-body"])
        .args(["--max-time", "10", "--unix-socket"])
        .arg(socket_of(app))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run curl: {e}"))?;
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "curl {args:?}: {} {body}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

fn socket_of(app: &App) -> PathBuf {
    app.sandbox().join("run/tasktray/api.sock")
}

/// Waits until the local API answers `GET /v1/version`.
async fn api_answers(app: &App) {
    wait::until_async("the local API to answer", REACT, || async {
        api(app, &["http://localhost/v1/version"]).await
    })
    .await;
}

/// Starts a task over the local API (no window needed); returns its id.
async fn start_over_api(app: &App, project: &Path, prompt: &str) -> u64 {
    let body = json!({ "prompt": prompt, "project_dir": project }).to_string();
    let created = api(app, &["-d", &body, "http://localhost/v1/tasks"])
        .await
        .expect("POST /v1/tasks");
    created["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no id in {created}"))
}

async fn wait_api_status(app: &App, id: u64, status: &str) {
    let url = format!("http://localhost/v1/tasks/{id}");
    wait::until_async(&format!("task {id} to be {status}"), FINISH, || async {
        let task = api(app, &[&url]).await?;
        if task["status"] == status {
            Ok(())
        } else {
            Err(task["status"].to_string())
        }
    })
    .await;
}

/// Whether the app has a window titled "Tasktray" (shown or not).
fn has_main_window(app: &App) -> bool {
    x11::window_titled(app.pid(), "Tasktray").is_ok()
}

/// Closes the window with its close button; waits until the window and WebKit's web process
/// are gone, while the app runs on. Returns how long the web process took to go.
async fn close_window(app: &App) -> Duration {
    let window = app.main_window_shown(REACT).await;
    assert!(
        !procs::web_processes(app.pid()).is_empty(),
        "a shown window has a web process"
    );
    let closed = Instant::now();
    x11::close(&window).expect("close the window");
    wait::until("the window and its web process to be gone", REACT, || {
        let web = procs::web_processes(app.pid());
        if web.is_empty() && !has_main_window(app) {
            Ok(())
        } else {
            Err(format!(
                "window there: {}, web processes: {}",
                has_main_window(app),
                procs::describe_all(&web)
            ))
        }
    })
    .await;
    let took = closed.elapsed();
    assert!(!app.exited(), "closing the window ended the app");
    took
}

/// A window built again: shown, with a web process, the session on its page.
async fn window_built_again(app: &App) {
    app.main_window_shown(REACT).await;
    assert!(
        !procs::web_processes(app.pid()).is_empty(),
        "the new window has a web process"
    );
    app.follow_window().await;
}

/// The log lines `window ready N ms after Show`, as the N.
fn ready_times(app: &App) -> Vec<u64> {
    app.log_text()
        .lines()
        .filter_map(|l| l.split("window ready ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_closed_window_gives_back_its_web_process_and_show_builds_it_again() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("window-release", Launch::default()).await;
        let tray = app.tray().await;
        let project = app.project("p");
        let id = app.spawn_task("Say hi", "fake: say hi", &project).await;
        app.wait_task_status(id, "completed", FINISH).await;

        let gone = close_window(&app).await;
        eprintln!("the web process was gone {gone:?} after the close");
        api_answers(&app).await;
        wait_api_status(&app, id, "completed").await;
        let menu = tray.menu().await.expect("the tray's menu");
        assert!(
            menu.find(&["Show Tasktray"]).is_some(),
            "{}",
            menu.outline()
        );

        tray.click("Show Tasktray").await.expect("click Show");
        window_built_again(&app).await;
        app.wait_row_status(id, "completed", REACT).await;
        app.click(&task_row(id)).await;
        app.wait_task_status_shown(id, "completed", REACT).await;
        app.screenshot("task-in-the-new-window").await;

        // And once more: nothing piles up.
        close_window(&app).await;
        tray.click("Show Tasktray").await.expect("click Show again");
        window_built_again(&app).await;
        app.wait_view("Tasks", REACT).await;
        assert_eq!(
            procs::web_processes(app.pid()).len(),
            1,
            "one web process, the new window's"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn without_a_window_a_notification_a_tray_task_and_quit_open_their_view() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("window-navigate", Launch::default()).await;
        let tray = app.tray().await;
        let project = app.project("p");
        close_window(&app).await;

        // A task started with no window: its notification's Show opens it.
        let first = start_over_api(&app, &project, "fake: say done").await;
        let summary = "✓ Completed:";
        let note = wait::until("the task's notification", FINISH, || {
            app.notifications()
                .into_iter()
                .find(|n| n.summary.starts_with(summary))
                .ok_or_else(|| format!("{:?}", app.notifications()))
        })
        .await;
        assert!(!has_main_window(&app), "a notification builds no window");
        notifications::invoke(note.id, "show").expect("click Show on the notification");
        window_built_again(&app).await;
        app.wait_task_status_shown(first, "completed", REACT).await;

        // A finished task from the tray's Recent menu.
        let second = start_over_api(&app, &project, "fake: say again").await;
        wait_api_status(&app, second, "completed").await;
        close_window(&app).await;
        let menu = tray.menu().await.expect("the tray's menu");
        let recent = menu.find(&["Recent"]).expect("a Recent menu");
        let label = recent
            .starting_with(&format!("✓ #{first} "))
            .unwrap_or_else(|| panic!("task {first} in Recent:\n{}", menu.outline()))
            .label
            .clone();
        tray.click(&format!("Recent > {label}"))
            .await
            .expect("click the task in Recent");
        window_built_again(&app).await;
        app.wait_task_status_shown(first, "completed", REACT).await;

        // Quit while a task runs asks in a window built for the question.
        let running = start_over_api(&app, &project, "fake: say up; sleep 60").await;
        wait_api_status(&app, running, "running").await;
        close_window(&app).await;
        tray.click("Quit Tasktray").await.expect("click Quit");
        window_built_again(&app).await;
        app.wait_view("Quit Tasktray?", REACT).await;
        app.click(&tid("confirm-quit-yes")).await;
        assert!(
            wait::holds_within(FINISH, || app.exited()).await,
            "the app still runs after the confirmation"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn started_hidden_the_app_builds_no_window_until_shown() {
    if !enabled() {
        return;
    }
    bounded(async {
        // No WebDriver: a session needs a webview, so the app would build one for it.
        let mut app = App::launch_bare("window-hidden", Launch::hidden()).await;
        let tray = app.tray().await;
        api_answers(&app).await;
        // The tray is made after the window would have been built: none is, nor any WebKit
        // process (the web context is made with the first webview).
        assert!(!has_main_window(&app), "a window was built");
        let webkit: Vec<String> = procs::children(app.pid())
            .into_iter()
            .map(procs::describe)
            .filter(|d| d.contains("WebKit"))
            .collect();
        assert!(webkit.is_empty(), "WebKit processes: {webkit:?}");

        tray.click("Show Tasktray").await.expect("click Show");
        app.main_window_shown(REACT).await;
        let ready = wait::until("the UI to say it is ready", REACT, || {
            ready_times(&app)
                .first()
                .copied()
                .ok_or_else(|| "no `window ready` in the log".to_owned())
        })
        .await;
        eprintln!("the first window was ready {ready} ms after Show");
        let shot = app.artifacts().join("screen-shown.png");
        x11::screenshot(&shot).expect("a screenshot of the screen");
        eprintln!("screenshot: {}", shot.display());

        let gone = close_window(&app).await;
        eprintln!("the web process was gone {gone:?} after the close");

        // A second launch shows the first instance: its window is built again.
        let status = app.command().status().expect("run a second tasktray");
        assert!(status.success(), "the second launch failed: {status}");
        app.main_window_shown(REACT).await;
        let again = wait::until(
            "the new window to say it is ready",
            REACT,
            || match ready_times(&app).get(1) {
                Some(&ms) => Ok(ms),
                None => Err(format!("{:?}", ready_times(&app))),
            },
        )
        .await;
        eprintln!("the window built again was ready {again} ms after Show");
        assert!(!procs::web_processes(app.pid()).is_empty());

        tray.click("Quit Tasktray").await.expect("click Quit");
        assert!(
            wait::holds_within(REACT, || app.exited()).await,
            "the app still runs after Quit"
        );
        app.finish().await;
    })
    .await;
}

/// The New task form's folder, name and prompt.
async fn form_fields(app: &App) -> (Option<String>, Option<String>, Option<String>) {
    (
        app.value_of(&tid("project-dir")).await,
        app.value_of(&tid("task-name")).await,
        app.value_of(&tid("prompt")).await,
    )
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn the_new_task_draft_outlives_a_closed_window_until_it_is_started() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("window-draft", Launch::default()).await;
        let tray = app.tray().await;
        let project = app.project("p");
        let dir = project.to_str().expect("a UTF-8 path").to_owned();

        app.open_form().await;
        app.fill_form(&project, "Kept draft", "fake: say kept")
            .await;
        // Closed right after the last keystroke, as a user closes it.
        close_window(&app).await;
        tray.click("Show Tasktray").await.expect("click Show");
        window_built_again(&app).await;
        app.open_form().await;
        assert_eq!(
            form_fields(&app).await,
            (
                Some(dir.clone()),
                Some("Kept draft".into()),
                Some("fake: say kept".into())
            ),
            "the form of the new window has the draft"
        );
        app.screenshot("draft-in-the-new-window").await;

        // Started: forgotten. The next window's form is a fresh one (on the recent folder).
        let id = app.submit_form().await;
        app.wait_task_status_shown(id, "completed", FINISH).await;
        close_window(&app).await;
        tray.click("Show Tasktray").await.expect("click Show again");
        window_built_again(&app).await;
        app.open_form().await;
        assert_eq!(
            form_fields(&app).await,
            (Some(dir), Some(String::new()), Some(String::new())),
            "a started task's draft is gone"
        );
        app.finish().await;
    })
    .await;
}

/// Where the task view's Copy output button is: its top and left, in CSS pixels.
async fn copy_button_at(app: &App) -> (f64, f64) {
    let at = app
        .js(
            "const r = document.querySelector(arguments[0])?.getBoundingClientRect(); \
             return r ? [r.top, r.left] : null;",
            vec![json!(tid("copy-output"))],
        )
        .await;
    match (at[0].as_f64(), at[1].as_f64()) {
        (Some(top), Some(left)) => (top, left),
        _ => panic!("no Copy output button: {at}"),
    }
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_that_ends_leaves_its_buttons_where_they_were() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("window-steady-buttons", Launch::default()).await;
        let project = app.project("p");
        // Runs until it is sent a message, then completes with a result (cost, turns).
        let id = app
            .spawn_task(
                "Waits for a word",
                "fake: say ready; wait-message",
                &project,
            )
            .await;
        app.wait_row_status(id, "running", REACT).await;
        app.click(&task_row(id)).await;
        app.wait_task_status_shown(id, "running", REACT).await;
        app.wait_shown(&tid("copy-output"), REACT).await;
        let running = copy_button_at(&app).await;
        app.screenshot("buttons-running").await;

        app.invoke("send_message", json!({ "id": id, "message": "go on" }))
            .await
            .expect("send_message");
        let page = app.wait_task_status_shown(id, "completed", FINISH).await;
        assert!(page.result.is_some(), "a result card: {page:#?}");
        let ended = copy_button_at(&app).await;
        app.screenshot("buttons-completed").await;
        assert!(
            (ended.0 - running.0).abs() < 0.5,
            "the buttons moved {} px down when the task ended (running {running:?}, ended \
             {ended:?})",
            ended.0 - running.0
        );
        app.finish().await;
    })
    .await;
}
