//! The queue in the real app: a task queued behind a busy folder (the form's checkbox, "Queue
//! it instead", `taskctl run --queue`) or over the running limit set in Settings waits with its
//! place, shows in the window, the tray's Queued section and Quit's question, can be cancelled
//! before it starts, starts by itself when its turn comes, and outlives a quit of the app. And
//! the terminal's side of tasks the app runs: `taskctl run --detach` and `taskctl cancel`, and a
//! task that goes on (and notifies) when the `taskctl` following it is killed.
//! Run with tests/e2e/run.sh (skipped otherwise).

use std::ffi::OsStr;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tasktray_e2e::notifications::Note;
use tasktray_e2e::procs::{self, MARKER_ENV};
use tasktray_e2e::tray::MenuItem;
use tasktray_e2e::ui::{task_row, tid, UI_TIMEOUT};
use tasktray_e2e::{enabled, wait, App, Launch};
use tasktray_test_support::bounded;
use tokio::io::AsyncReadExt;

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the window, the tray or a notification gets to follow.
const REACT: Duration = Duration::from_secs(10);
/// How long one `taskctl` command that does not follow a task may take.
const TASKCTL: Duration = Duration::from_secs(15);
/// A two-way task that runs, says so, and holds its folder until it is sent a message.
const HELD: &str = "fake: say ready; wait-message";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs `taskctl args` in the spec's sandbox to its end (within [`TASKCTL`]).
async fn taskctl<I, S>(app: &App, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = tokio::process::Command::from(app.taskctl());
    command.args(args).kill_on_drop(true);
    tokio::time::timeout(TASKCTL, command.output())
        .await
        .unwrap_or_else(|_| panic!("taskctl did not end within {TASKCTL:?}"))
        .expect("run taskctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits for the app's API socket (taskctl hands tasks to the app through it).
async fn wait_api(app: &App) {
    let socket = app.sandbox().join("run/tasktray/api.sock");
    wait::until("the API socket", REACT, || {
        socket
            .exists()
            .then_some(())
            .ok_or_else(|| format!("no socket at {}", socket.display()))
    })
    .await;
}

/// Task `id`'s record as the app saved it in the data dir (read while no app runs).
fn stored(app: &App, id: u64) -> Value {
    let path = app.data_dir().join(format!("tasks/{id}/task.json"));
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}\n{raw}", path.display()))
}

/// Live processes of task `id` (its shim, agent and tools carry `TASKTRAY_TASK=<id>`).
fn procs_of_task(app: &App, id: u64) -> Vec<i32> {
    let of_task = procs::marked("TASKTRAY_TASK", &id.to_string());
    procs::marked(MARKER_ENV, &app.marker)
        .into_iter()
        .filter(|p| of_task.contains(p))
        .collect()
}

/// The `data-testid`s of the task rows the list shows, top to bottom.
async fn listed_rows(app: &App) -> Vec<String> {
    let rows = app
        .js(
            "return [...document.querySelectorAll('[data-testid^=\"task-row-\"]')]\
             .map((el) => el.dataset.testid);",
            vec![],
        )
        .await;
    rows.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `css` holds exactly `expected` (its `textContent`, trimmed).
async fn wait_exact_text(app: &App, css: &str, expected: &str) {
    let what = format!("{css} to read {expected:?}");
    wait::until_async(&what, UI_TIMEOUT, || async {
        match app.text_of(css).await {
            Some(t) if t.trim() == expected => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// The finish notification of task `name`.
async fn finish_note(app: &App, name: &str) -> Note {
    let what = format!("the notification of {name:?}");
    wait::until(&what, REACT, || {
        let notes = app.notifications();
        notes
            .iter()
            .find(|n| n.summary.contains(name))
            .cloned()
            .ok_or_else(|| format!("{notes:#?}"))
    })
    .await
}

/// Sets "Tasks running at once" in Settings and saves, as a user does; back on the list after.
async fn set_max_running(app: &App, max: u32) {
    app.click(&tid("open-settings")).await;
    app.wait_view("Settings", UI_TIMEOUT).await;
    wait::until_async("the settings to load", UI_TIMEOUT, || async {
        match app.value_of(&tid("settings-max-running")).await.as_deref() {
            Some("4") => Ok(()),
            other => Err(format!("max running {other:?} (the default is 4)")),
        }
    })
    .await;
    app.replace_text(&tid("settings-max-running"), &max.to_string())
        .await;
    app.click(&tid("settings-save")).await;
    app.wait_shown(&tid("settings-saved"), UI_TIMEOUT).await;
    let settings = app
        .invoke("get_settings", json!({}))
        .await
        .expect("get_settings");
    assert_eq!(settings["max_running"], max, "{settings:#}");
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(app.data_dir().join("settings.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(saved["max_running"], max, "settings.json: {saved:#}");
    app.click(&tid("back")).await;
    app.wait_view("Tasks", UI_TIMEOUT).await;
}

fn header_is(expected: &str) -> impl Fn(&MenuItem) -> Result<(), String> + '_ {
    move |menu| match menu.children.first() {
        Some(first) if first.label == expected => Ok(()),
        other => Err(format!("header {:?}", other.map(|h| &h.label))),
    }
}

/// Asserts that task `later` started only once task `earlier` had ended.
fn started_after(later: &Value, earlier: &Value) {
    let started = later["started_at_ms"].as_u64();
    let ended = earlier["finished_at_ms"].as_u64();
    assert!(
        matches!((started, ended), (Some(s), Some(e)) if s >= e),
        "task {} started at {started:?}, before task {} ended at {ended:?}",
        later["id"],
        earlier["id"]
    );
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_queued_behind_its_busy_folder_waits_in_the_window_and_starts_by_itself() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("queue-window", Launch::default()).await;
        let project = app.project("shared");
        let first = app.launch_from_form(&project, "e2e held", HELD).await;
        app.wait_text(&tid("entry-text"), "ready", REACT).await;

        // A second task in the same folder, with "Queue if the project is busy".
        app.open_form().await;
        app.fill_form(&project, "e2e queued", "fake: say the queued one ran")
            .await;
        app.click(&tid("launch-queue")).await;
        let checked = app
            .js(
                "return document.querySelector(arguments[0]).checked;",
                vec![json!(tid("launch-queue"))],
            )
            .await;
        assert_eq!(checked, json!(true), "the queue checkbox");
        let second = app.submit_form().await;
        assert_ne!(second, first);

        // Its view says it is queued, its place, and what it waits for.
        let page = app.wait_task_status_shown(second, "queued", REACT).await;
        assert!(
            page.badge
                .as_deref()
                .is_some_and(|b| b.contains("Queued · 1st in line")),
            "{page:#?}"
        );
        assert!(
            page.cancel_shown,
            "a queued task can be cancelled: {page:#?}"
        );
        app.wait_shown(&tid("queue-note"), UI_TIMEOUT).await;
        wait_exact_text(
            &app,
            &tid("queue-wait"),
            &format!("Starts when task #{first} in this folder ends."),
        )
        .await;
        let note = app.text_of(&tid("queue-note")).await.unwrap_or_default();
        assert!(note.contains("Queued · 1st in line"), "{note:?}");
        assert!(note.contains("It starts by itself"), "{note:?}");
        let record = app.task(second).await;
        assert_eq!(record["status"], "queued", "{record:#}");
        assert_eq!(record["started_at_ms"], Value::Null, "{record:#}");
        assert!(procs_of_task(&app, second).is_empty(), "a queued task runs");
        app.gallery_screenshot("task-queued").await;

        // The list: the row says Queued and its place; the Queued filter lists only it.
        app.back_to_list().await;
        app.wait_row_status(first, "running", UI_TIMEOUT).await;
        app.wait_row_status(second, "queued", UI_TIMEOUT).await;
        let place = format!("{} {}", task_row(second), tid("queue-place"));
        wait_exact_text(&app, &place, "· 1st in line").await;
        let wait_line = format!("{} {}", task_row(second), tid("task-queue-wait"));
        wait_exact_text(
            &app,
            &wait_line,
            &format!("Starts when task #{first} in this folder ends."),
        )
        .await;
        app.wait_text(&tid("filter-queued"), "1", UI_TIMEOUT).await;
        app.gallery_screenshot("list-queued").await;
        app.click(&tid("filter-queued")).await;
        let only_queued = vec![format!("task-row-{second}")];
        wait::until_async("the Queued filter", UI_TIMEOUT, || async {
            let rows = listed_rows(&app).await;
            if rows == only_queued {
                Ok(())
            } else {
                Err(format!("{rows:?}"))
            }
        })
        .await;
        app.click(&tid("filter-all")).await;

        // The first task gets its message from its view and ends; the queued one starts by
        // itself, then.
        app.click(&task_row(first)).await;
        app.wait_task_status_shown(first, "running", UI_TIMEOUT)
            .await;
        app.wait_shown(&tid("message-box"), REACT).await;
        app.type_into(&tid("message-text"), "You may finish now.")
            .await;
        app.click(&tid("send-message")).await;
        let first_done = app.wait_task_status(first, "completed", FINISH).await;
        assert_eq!(
            first_done["result"]["text"], "ready\ngot message: You may finish now.",
            "{first_done:#}"
        );
        let second_done = app.wait_task_status(second, "completed", FINISH).await;
        assert_eq!(
            second_done["result"]["text"], "the queued one ran",
            "{second_done:#}"
        );
        started_after(&second_done, &first_done);
        app.back_to_list().await;
        app.wait_row_status(second, "completed", REACT).await;
        app.wait_gone(&tid("queue-place"), UI_TIMEOUT).await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_queued_task_cancelled_in_the_window_never_starts() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("queue-cancel", Launch::default()).await;
        wait_api(&app).await;
        let project = app.project("shared");
        let first = app.spawn_task("e2e holder", HELD, &project).await;
        app.wait_task_status(first, "running", FINISH).await;

        // Without the checkbox the busy folder refuses the task; "Queue it instead" queues it.
        app.open_form().await;
        app.fill_form(&project, "e2e never", "fake: say this should never run")
            .await;
        app.click(&tid("launch-submit")).await;
        app.wait_text(
            &tid("busy-note"),
            &format!("Task {first} is already running"),
            UI_TIMEOUT,
        )
        .await;
        app.wait_text(&tid("busy-queue"), "Queue it instead", UI_TIMEOUT)
            .await;
        app.click(&tid("busy-queue")).await;
        let second = app.wait_task_view(REACT).await;
        assert_ne!(second, first);
        app.wait_task_status_shown(second, "queued", REACT).await;
        assert_eq!(app.task(second).await["name"], "e2e never");

        app.click(&tid("task-cancel")).await;
        let page = app.wait_task_status_shown(second, "cancelled", REACT).await;
        assert!(!page.cancel_shown, "{page:#?}");
        app.wait_gone(&tid("queue-note"), UI_TIMEOUT).await;
        app.wait_text(&tid("task-header"), "never started", UI_TIMEOUT)
            .await;
        let record = app.task(second).await;
        assert_eq!(record["started_at_ms"], Value::Null, "{record:#}");
        assert_eq!(record["shim"], Value::Null, "{record:#}");
        assert_eq!(record["line_count"], 0, "{record:#}");
        assert_eq!(app.task(first).await["status"], "running");
        app.back_to_list().await;
        app.wait_row_status(second, "cancelled", UI_TIMEOUT).await;
        let row = app.text_of(&task_row(second)).await.unwrap_or_default();
        assert!(row.contains("not started"), "{row:?}");

        // The folder frees (a message from the terminal ends the first task): the cancelled
        // task stays cancelled, and a new task gets the folder.
        let sent = taskctl(&app, ["send", &first.to_string(), "Done waiting."]).await;
        assert!(sent.status.success(), "{}", text(&sent.stderr));
        app.wait_task_status(first, "completed", FINISH).await;
        let third = app
            .spawn_task("e2e after", "fake: say the folder is free", &project)
            .await;
        let third_done = app.wait_task_status(third, "completed", FINISH).await;
        assert_eq!(third_done["result"]["text"], "the folder is free");
        let record = app.task(second).await;
        assert_eq!(record["status"], "cancelled", "{record:#}");
        assert_eq!(record["started_at_ms"], Value::Null, "{record:#}");
        assert_eq!(record["line_count"], 0, "{record:#}");
        let notes = app.notifications();
        assert!(
            notes.iter().all(|n| !n.summary.contains("e2e never")),
            "a task cancelled before it started notified: {notes:#?}"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn the_running_limit_from_settings_queues_across_folders_and_the_tray_lists_the_queue() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("queue-limit", Launch::default()).await;
        let tray = app.tray().await;
        wait_api(&app).await;
        set_max_running(&app, 1).await;

        let first = app
            .launch_from_form(&app.project("alpha"), "e2e first", HELD)
            .await;
        app.wait_task_status(first, "running", FINISH).await;
        // Another folder, no queue checkbox: over the limit it is queued all the same.
        let second = app
            .launch_from_form(
                &app.project("beta"),
                "e2e over limit",
                "fake: say ran after the first",
            )
            .await;
        assert_ne!(second, first);
        app.wait_task_status_shown(second, "queued", REACT).await;
        wait_exact_text(&app, &tid("queue-wait"), "Starts when no other task runs.").await;

        let queued = format!("1st #{second} e2e over limit");
        let menu = tray
            .wait_menu(
                "the tray to list the queue",
                REACT,
                header_is("1 task running · 1 queued · 0 finished"),
            )
            .await;
        let entry = menu
            .find(&["Queued (1)", &queued])
            .unwrap_or_else(|| panic!("no {queued:?} under Queued (1):\n{}", menu.outline()));
        assert_eq!(entry.labels(), ["Show", "Cancel"]);
        assert_eq!(
            menu.find(&["Queued (1)"]).map(MenuItem::labels),
            Some(vec![queued.clone()]),
            "\n{}",
            menu.outline()
        );
        assert!(
            menu.find(&["Running (1)", &format!("#{first} e2e first")])
                .is_some(),
            "\n{}",
            menu.outline()
        );

        // Show in the tray's Queued section opens the queued task's view.
        app.back_to_list().await;
        tray.click(&format!("Queued (1) > {queued} > Show"))
            .await
            .expect("click Show");
        app.wait_task_status_shown(second, "queued", REACT).await;

        // The first task ends (a message from the terminal): the second starts by itself.
        let sent = taskctl(&app, ["send", &first.to_string(), "Go ahead."]).await;
        assert!(sent.status.success(), "{}", text(&sent.stderr));
        assert_eq!(
            text(&sent.stdout).trim(),
            format!("task {first}: message sent")
        );
        let first_done = app.wait_task_status(first, "completed", FINISH).await;
        let second_done = app.wait_task_status(second, "completed", FINISH).await;
        assert_eq!(second_done["result"]["text"], "ran after the first");
        started_after(&second_done, &first_done);
        // Its view, open since it was queued, shows its output and result once it has run
        // (as the queue note promised).
        app.wait_page("the output of the task that waited", REACT, |p| {
            if p.task_is(second, "completed")
                && p.row("entry-text", "ran after the first").is_some()
                && p.result_shown
            {
                Ok(())
            } else {
                Err("not shown yet".into())
            }
        })
        .await;
        let menu = tray
            .wait_menu(
                "the tray to count both tasks",
                REACT,
                header_is("No task running · 2 finished"),
            )
            .await;
        assert!(
            menu.starting_with("Queued").is_none(),
            "\n{}",
            menu.outline()
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn queued_tasks_outlive_a_quit_and_start_when_the_app_starts_again() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("queue-restart", Launch::default()).await;
        let tray = app.tray().await;
        wait_api(&app).await;
        let project = app.project("shared");
        let first = app.spawn_task("e2e held", HELD, &project).await;
        app.wait_task_status(first, "running", FINISH).await;

        // The terminal queues a task behind it (`taskctl run --queue --detach`).
        let out = taskctl(
            &app,
            [
                OsStr::new("run"),
                OsStr::new("--detach"),
                OsStr::new("--queue"),
                OsStr::new("--name"),
                OsStr::new("e2e after restart"),
                OsStr::new("--dir"),
                project.as_os_str(),
                OsStr::new("fake: say ran after the restart"),
            ],
        )
        .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let second: u64 = text(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{e}: {:?}", text(&out.stdout)));
        app.wait_row_status(second, "queued", REACT).await;

        // Quit asks, and says that the queued task stays.
        tray.click("Quit Tasktray").await.expect("click Quit");
        app.wait_view("Quit Tasktray?", REACT).await;
        app.wait_text(
            &tid("confirm-quit-title"),
            "1 task is still running",
            UI_TIMEOUT,
        )
        .await;
        app.wait_text(
            &tid("confirm-quit"),
            &format!("#{first} e2e held"),
            UI_TIMEOUT,
        )
        .await;
        wait_exact_text(
            &app,
            &tid("confirm-quit-queued"),
            "1 queued task stays queued and starts when Tasktray starts again.",
        )
        .await;
        app.screenshot("confirm-quit-queued").await;
        app.click(&tid("confirm-quit-yes")).await;
        assert!(
            wait::holds_within(FINISH, || app.exited()).await,
            "the app still runs {FINISH:?} after the confirmation"
        );
        let held = stored(&app, first);
        assert_eq!(held["status"], "cancelled", "{held:#}");
        let kept = stored(&app, second);
        assert_eq!(kept["status"], "queued", "{kept:#}");
        assert_eq!(kept["started_at_ms"], Value::Null, "{kept:#}");

        let relaunched_at = now_ms();
        let mut app = app.relaunch("queue-restart-again", Launch::default()).await;
        let done = app.wait_task_status(second, "completed", FINISH).await;
        assert_eq!(done["result"]["text"], "ran after the restart", "{done:#}");
        assert!(
            done["started_at_ms"]
                .as_u64()
                .is_some_and(|s| s >= relaunched_at),
            "started before the new launch ({relaunched_at}): {done:#}"
        );
        assert_eq!(app.task(first).await["status"], "cancelled");
        app.wait_row_status(second, "completed", REACT).await;
        app.wait_row_status(first, "cancelled", REACT).await;
        // The app tells of the end of a task it started at launch as of any other: the tray
        // counts it and a notification says it is done. (The queue starts such a task as soon
        // as the app's supervisor exists; its events must not go before the app listens.)
        let tray = app.tray().await;
        tray.wait_menu(
            "the tray to count the task that ran after the restart",
            REACT,
            header_is("No task running · 2 finished"),
        )
        .await;
        let note = finish_note(&app, "e2e after restart").await;
        assert!(
            note.summary.starts_with("✓ Completed: e2e after restart ("),
            "{note:?}"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn taskctl_run_detach_returns_at_once_and_taskctl_cancel_ends_the_task_in_the_window() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("taskctl-detach", Launch::default()).await;
        wait_api(&app).await;
        let project = app.project("p");
        let started = Instant::now();
        let out = taskctl(
            &app,
            [
                OsStr::new("run"),
                OsStr::new("--detach"),
                OsStr::new("--name"),
                OsStr::new("e2e detached"),
                OsStr::new("--dir"),
                project.as_os_str(),
                OsStr::new("fake: say detached and running; sleep 300"),
            ],
        )
        .await;
        let took = started.elapsed();
        eprintln!("taskctl run --detach took {took:?}");
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let stdout = text(&out.stdout);
        let id: u64 = stdout
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{e}: stdout {stdout:?}"));
        assert_eq!(stdout, format!("{id}\n"), "only the id on stdout");
        assert!(
            stderr.contains(&format!("task {id} runs in Tasktray")),
            "{stderr}"
        );
        // The task sleeps for 300 s: taskctl did not wait for it.
        assert!(took < Duration::from_secs(10), "taskctl took {took:?}");
        let record = app.task(id).await;
        assert!(
            matches!(record["status"].as_str(), Some("pending" | "running")),
            "{record:#}"
        );

        app.wait_row_status(id, "running", REACT).await;
        app.click(&task_row(id)).await;
        app.wait_text(&tid("entry-text"), "detached and running", REACT)
            .await;
        app.wait_task_status_shown(id, "running", UI_TIMEOUT).await;

        let out = taskctl(&app, ["cancel", &id.to_string()]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{stderr}");
        assert!(stderr.contains(&format!("task {id} cancelled")), "{stderr}");
        let page = app.wait_task_status_shown(id, "cancelled", REACT).await;
        assert!(!page.cancel_shown, "{page:#?}");
        assert!(
            wait::holds_within(REACT, || procs_of_task(&app, id).is_empty()).await,
            "task processes left after taskctl cancel:\n{}",
            procs::describe_all(&procs_of_task(&app, id))
        );
        app.finish().await;
    })
    .await;
}

/// A command running in the background whose stdout and stderr are collected as they come.
struct Collected {
    child: tokio::process::Child,
    output: Arc<Mutex<String>>,
}

impl Collected {
    fn spawn(command: std::process::Command) -> Collected {
        let mut command = tokio::process::Command::from(command);
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("spawn the command");
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for mut pipe in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let output = output.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                    let mut all = output.lock().unwrap_or_else(|e| e.into_inner());
                    all.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Collected { child, output }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn wait_output(&self, needle: &str, timeout: Duration) {
        let what = format!("the command to print {needle:?}");
        wait::until(&what, timeout, || {
            let out = self.output();
            if out.contains(needle) {
                Ok(())
            } else {
                Err(out)
            }
        })
        .await;
    }
}

/// The id of the one task named `name`.
async fn task_named(app: &App, name: &str) -> u64 {
    let what = format!("a task named {name:?}");
    wait::until_async(&what, REACT, || async {
        let tasks = app
            .invoke("list_tasks", json!({ "query": {} }))
            .await
            .expect("list_tasks");
        tasks["tasks"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["name"] == name))
            .and_then(|t| t["id"].as_u64())
            .ok_or_else(|| tasks.to_string())
    })
    .await
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_goes_on_in_the_app_and_notifies_when_the_taskctl_following_it_is_killed() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("taskctl-killed", Launch::default()).await;
        wait_api(&app).await;
        let project = app.project("p");
        let mut command = app.taskctl();
        command
            .args(["run", "--name", "e2e outlives taskctl", "--dir"])
            .arg(&project)
            .arg(HELD);
        let mut run = Collected::spawn(command);
        let id = task_named(&app, "e2e outlives taskctl").await;
        // taskctl follows it: the app runs it, and its output reaches the terminal.
        run.wait_output("run by Tasktray", REACT).await;
        run.wait_output("ready", FINISH).await;
        app.wait_row_status(id, "running", REACT).await;

        run.child.start_kill().expect("SIGKILL taskctl");
        let status = tokio::time::timeout(REACT, run.child.wait())
            .await
            .expect("taskctl to die")
            .expect("wait for taskctl");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{status:?}"
        );

        // The task goes on in the app: it still takes a message, then completes.
        app.click(&task_row(id)).await;
        app.wait_task_status_shown(id, "running", UI_TIMEOUT).await;
        assert!(
            app.notifications()
                .iter()
                .all(|n| !n.summary.contains("e2e outlives taskctl")),
            "notified before it ended"
        );
        app.wait_shown(&tid("message-box"), REACT).await;
        app.type_into(&tid("message-text"), "Carry on without the terminal.")
            .await;
        app.click(&tid("send-message")).await;
        let done = app.wait_task_status(id, "completed", FINISH).await;
        assert_eq!(
            done["result"]["text"], "ready\ngot message: Carry on without the terminal.",
            "{done:#}"
        );
        app.wait_task_status_shown(id, "completed", REACT).await;
        let note = finish_note(&app, "e2e outlives taskctl").await;
        assert!(
            note.summary
                .starts_with("✓ Completed: e2e outlives taskctl ("),
            "{note:?}"
        );
        assert_eq!(
            note.body, "ready\ngot message: Carry on without the terminal.",
            "{note:?}"
        );
        assert!(
            procs::alive(app.pid()),
            "the app ended with the terminal's taskctl"
        );
        drop(run);
        app.finish().await;
    })
    .await;
}
