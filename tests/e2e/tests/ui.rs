//! The UI, driven as a user drives it: clicks and typing in the window's DOM (WebDriver), the
//! tray menu, and what the notification server and the process table see. The agent is
//! fake-claude, except in the last spec, which runs the real Claude Code CLI against the mock
//! Messages API. Elements are found by `data-testid` (see `tasktray_e2e::ui`).
//! Run with tests/e2e/run.sh (skipped otherwise).
//!
//! Screenshots of the main views go to `target/e2e/screenshots/`; each spec's own to
//! `target/e2e/<spec>/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use tasktray_e2e::notifications::Note;
use tasktray_e2e::procs::{self, MARKER_ENV};
use tasktray_e2e::ui::{task_row, tid, Page, UI_TIMEOUT};
use tasktray_e2e::{enabled, wait, x11, App, Launch};
use tasktray_test_support::bounded;

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the tray, a window or a notification gets to follow.
const REACT: Duration = Duration::from_secs(10);

/// A task that talks, runs a tool, pauses (the window in which the spec looks at the live
/// view) and ends with a second text.
const LIVE_PROMPT: &str =
    "fake: say Looking at the code; tool echo from-the-tool; sleep 1.5; say All done";

/// The project folder as the app records it (canonical).
fn canonical(project: &Path) -> PathBuf {
    fs::canonicalize(project).expect("canonical project path")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The processes of the spec's tasks: shims, agents and their tools (they carry
/// `TASKTRAY_TASK`).
fn task_procs(app: &App) -> Vec<i32> {
    procs::marked_with(MARKER_ENV, &app.marker, "TASKTRAY_TASK")
}

async fn wait_task_procs(app: &App, at_least: usize) {
    wait::until("the task's processes", REACT, || {
        let pids = task_procs(app);
        if pids.len() >= at_least {
            Ok(())
        } else {
            Err(procs::describe_all(&pids))
        }
    })
    .await;
}

async fn wait_no_task_procs(app: &App, timeout: Duration) {
    if !wait::holds_within(timeout, || task_procs(app).is_empty()).await {
        panic!(
            "task processes left:\n{}",
            procs::describe_all(&task_procs(app))
        );
    }
}

/// The notification whose summary names task `name`.
async fn wait_note(app: &App, name: &str) -> Note {
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

/// The duration in a notification summary `<mark> <word>: <name> (<duration>)`, in seconds
/// (under a minute the app writes `12.3s`).
fn summary_secs(summary: &str, prefix: &str) -> f64 {
    summary
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(" ("))
        .and_then(|rest| rest.strip_suffix("s)"))
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("{summary:?} is not {prefix:?} followed by \" (<secs>s)\""))
}

async fn main_window_shown(app: &App) {
    wait::until("the main window to be shown", REACT, || {
        let window = x11::window_titled(app.pid(), "Tasktray")?;
        if window.viewable {
            Ok(())
        } else {
            Err(format!("{window:?}"))
        }
    })
    .await;
}

/// Waits until the task view of `id` reaches a status other than queued, pending, running and
/// waiting; returns the page (a spec then asserts which status, with the page in the message).
async fn wait_task_end_shown(app: &App, id: u64, timeout: Duration) -> Page {
    app.wait_page("the task to end", timeout, |p| match p.status.as_deref() {
        Some("queued" | "pending" | "running" | "waiting") | None => Err("not ended".into()),
        Some(_) if p.task_id == Some(id) => Ok(p.clone()),
        Some(_) => Err(format!("the view of task {:?}", p.task_id)),
    })
    .await
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_task_started_from_the_form_shows_its_output_live_then_completes_and_notifies() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("ui-launch", Launch::default()).await;
        let project = app.project("form");
        app.wait_shown(&tid("tasks-empty"), UI_TIMEOUT).await;

        app.open_form().await;
        app.fill_form(&project, "e2e form task", LIVE_PROMPT).await;
        let started = Instant::now();
        let id = app.submit_form().await;
        eprintln!("the task view opened {:?} after Start", started.elapsed());

        // While the agent sleeps, the first text and the tool call are on screen and the badge
        // still says running.
        let live = app
            .wait_page("the live output while the task runs", FINISH, |p| {
                if p.task_id != Some(id) {
                    return Err("not the task's view".into());
                }
                match p.status.as_deref() {
                    Some("pending" | "running") => {}
                    // Ended before the spec saw the live rows: a result, not a wait.
                    _ => return Ok(Err(p.clone())),
                }
                let text = p.row("entry-text", "Looking at the code");
                let call = p.row("entry-tool-call", "echo from-the-tool");
                match (text, call) {
                    (Some(t), Some(c))
                        if t.shown && c.shown && p.status.as_deref() == Some("running") =>
                    {
                        Ok(Ok(p.clone()))
                    }
                    _ => Err("the text and the tool call are not both shown yet".into()),
                }
            })
            .await
            .unwrap_or_else(|p| panic!("the task ended before its live output was seen: {p:#?}"));
        eprintln!("live output seen {:?} after Start", started.elapsed());
        assert!(
            live.badge.as_deref().is_some_and(|b| b.contains("Running")),
            "{live:#?}"
        );
        assert!(live.cancel_shown, "a running task offers Cancel: {live:#?}");
        assert!(
            live.result.is_none(),
            "no result card while running: {live:#?}"
        );
        let call = live
            .row("entry-tool-call", "echo from-the-tool")
            .expect("the call");
        assert!(call.text.contains("Bash"), "{call:?}");
        app.screenshot("running").await;

        let done = app.wait_task_status_shown(id, "completed", FINISH).await;
        eprintln!("completed {:?} after Start", started.elapsed());
        assert!(
            done.badge.as_deref().is_some_and(|b| b.contains("Done")),
            "{done:#?}"
        );
        assert!(!done.cancel_shown, "{done:#?}");
        assert!(done.row("entry-text", "All done").is_some(), "{done:#?}");
        assert!(
            done.row("entry-tool-result", "from-the-tool").is_some(),
            "{done:#?}"
        );
        let result = app
            .wait_page("the result card on screen", UI_TIMEOUT, |p| {
                if p.result_shown {
                    Ok(p.clone())
                } else {
                    Err("no result card on screen".into())
                }
            })
            .await;
        assert!(result.result.is_some_and(|r| r.contains("Done")));
        assert_eq!(
            app.text_of(&tid("result-text")).await.as_deref(),
            Some("Looking at the code\nAll done")
        );
        assert_eq!(
            app.text_of(&tid("task-title")).await.as_deref(),
            Some("e2e form task")
        );
        app.screenshot("completed").await;

        // Back to the list: the row says completed.
        app.click(&tid("back")).await;
        app.wait_view("Tasks", UI_TIMEOUT).await;
        app.wait_row_status(id, "completed", UI_TIMEOUT).await;
        let row = app.text_of(&task_row(id)).await.unwrap_or_default();
        assert!(
            row.contains("e2e form task") && row.contains("form"),
            "{row:?}"
        );

        let note = wait_note(&app, "e2e form task").await;
        let secs = summary_secs(&note.summary, "✓ Completed: e2e form task");
        assert!((1.5..FINISH.as_secs_f64()).contains(&secs), "{note:?}");
        assert_eq!(note.body, "Looking at the code\nAll done");
        assert_eq!(note.app_name, "Tasktray");
        let notes = app.notifications();
        assert_eq!(notes.len(), 1, "one Notify for one task: {notes:#?}");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_busy_project_links_to_its_task_and_the_draft_survives() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("ui-busy", Launch::default()).await;
        let project = app.project("busy");
        let first = app
            .launch_from_form(&project, "e2e long", "fake: sleep 30")
            .await;
        app.wait_task_status_shown(first, "running", FINISH).await;

        // A second task in the same folder: the form keeps the folder of the last task.
        app.open_form().await;
        assert_eq!(
            app.value_of(&tid("project-dir")).await.as_deref(),
            Some(path_str(&project))
        );
        app.type_into(&tid("task-name"), "e2e second").await;
        app.type_into(&tid("prompt"), "fake: say second one").await;
        app.click(&tid("launch-submit")).await;
        let busy = format!(
            "Task {first} is already running in {}; wait for it or cancel it first",
            canonical(&project).display()
        );
        let note = app.wait_text(&tid("busy-note"), &busy, UI_TIMEOUT).await;
        assert!(note.contains(&format!("Show task {first}")), "{note:?}");
        app.wait_view("New task", UI_TIMEOUT).await;
        let draft = || async {
            (
                app.value_of(&tid("project-dir")).await,
                app.value_of(&tid("task-name")).await,
                app.value_of(&tid("prompt")).await,
            )
        };
        let typed = (
            Some(path_str(&project).to_owned()),
            Some("e2e second".to_owned()),
            Some("fake: say second one".to_owned()),
        );
        assert_eq!(draft().await, typed, "the draft after the error");
        assert_eq!(app.focused().await.as_deref(), Some("project-dir"));
        let tasks = app
            .invoke("list_tasks", json!({ "query": {} }))
            .await
            .expect("list_tasks");
        assert_eq!(
            tasks["tasks"].as_array().map(Vec::len),
            Some(1),
            "{tasks:#}"
        );
        assert_eq!(tasks["total"], 1, "{tasks:#}");
        app.screenshot("busy").await;

        // The link opens the running task.
        app.click(&tid("busy-task-link")).await;
        app.wait_task_status_shown(first, "running", UI_TIMEOUT)
            .await;
        app.wait_view(&format!("Task #{first}"), UI_TIMEOUT).await;

        // Back to the form: everything typed is still there.
        app.click(&tid("back")).await;
        app.wait_view("New task", UI_TIMEOUT).await;
        assert_eq!(draft().await, typed, "the draft after a visit to the task");

        // Once the first task is gone, the same draft starts the second one.
        app.cancel_task(first).await;
        app.wait_task_status(first, "cancelled", FINISH).await;
        let second = app.submit_form().await;
        assert_ne!(second, first);
        let page = wait_task_end_shown(&app, second, FINISH).await;
        assert_eq!(page.status.as_deref(), Some("completed"), "{page:#?}");
        assert_eq!(
            app.text_of(&tid("task-title")).await.as_deref(),
            Some("e2e second")
        );
        assert_eq!(
            app.text_of(&tid("result-text")).await.as_deref(),
            Some("second one")
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn cancel_in_the_task_view_stops_a_tool_that_ignores_sigterm_after_the_set_grace() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("ui-cancel", Launch::default()).await;

        // A grace period of 1 s, set and saved in Settings.
        app.click(&tid("open-settings")).await;
        app.wait_view("Settings", UI_TIMEOUT).await;
        wait::until_async("the settings to load", UI_TIMEOUT, || async {
            match app.value_of(&tid("settings-grace")).await.as_deref() {
                Some("5") => Ok(()),
                other => Err(format!("grace {other:?}")),
            }
        })
        .await;
        app.replace_text(&tid("settings-grace"), "1").await;
        app.click(&tid("settings-save")).await;
        app.wait_shown(&tid("settings-saved"), UI_TIMEOUT).await;
        let settings = app
            .invoke("get_settings", json!({}))
            .await
            .expect("get_settings");
        assert_eq!(settings["grace_secs"], 1.0, "{settings:#}");
        let saved: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(app.data_dir().join("settings.json")).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(saved["grace_secs"], 1.0, "settings.json: {saved:#}");

        let project = app.project("stubborn");
        app.click(&tid("back")).await;
        app.wait_view("Tasks", UI_TIMEOUT).await;
        let id = app
            .launch_from_form(&project, "e2e stubborn", "fake: tool-child; sleep 60")
            .await;
        // fake-claude says the pid of its tool child, which ignores SIGTERM.
        let child: i32 = app
            .wait_page("the tool child's pid", FINISH, |p| {
                p.row("entry-text", "tool-child pid ")
                    .and_then(|r| r.text.trim().rsplit(' ').next()?.parse().ok())
                    .ok_or_else(|| "not said yet".to_owned())
            })
            .await;
        wait_task_procs(&app, 3).await;
        assert!(procs::alive(child));

        let clicked = Instant::now();
        app.click(&tid("task-cancel")).await;
        let page = app.wait_task_status_shown(id, "cancelled", FINISH).await;
        let to_cancelled = clicked.elapsed();
        wait_no_task_procs(&app, REACT).await;
        let to_gone = clicked.elapsed();
        eprintln!(
            "cancelled {to_cancelled:?} and all task processes gone {to_gone:?} after the click"
        );
        assert!(!procs::alive(child), "the tool child {child} survived");
        assert!(
            page.badge
                .as_deref()
                .is_some_and(|b| b.contains("Cancelled")),
            "{page:#?}"
        );
        assert!(!page.cancel_shown, "{page:#?}");
        // The child outlived SIGTERM for the grace period, and that period was the 1 s from
        // Settings, not the default 5 s.
        assert!(
            to_cancelled >= Duration::from_millis(900),
            "cancelled after only {to_cancelled:?}, before the grace period ended"
        );
        assert!(
            to_gone < Duration::from_millis(4500),
            "the tree took {to_gone:?}: the 1 s grace from Settings was not used"
        );

        app.click(&tid("back")).await;
        app.wait_row_status(id, "cancelled", UI_TIMEOUT).await;
        let notes = app.notifications();
        assert!(
            notes.iter().all(|n| !n.summary.contains("e2e stubborn")),
            "a cancelled task notified: {notes:#?}"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn new_task_in_the_tray_menu_opens_the_form_and_ctrl_enter_starts_the_task() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("ui-tray-new", Launch::hidden()).await;
        let tray = app.tray().await;
        // An earlier task makes its folder the most recent project.
        let project = app.project("recent");
        let earlier = app
            .spawn_task("e2e earlier", "fake: say earlier", &project)
            .await;
        app.wait_task_status(earlier, "completed", FINISH).await;

        tray.click("New task…").await.expect("click New task…");
        main_window_shown(&app).await;
        app.wait_view("New task", REACT).await;
        app.wait_shown(&tid("prompt"), UI_TIMEOUT).await;
        // The folder is filled in from the recent projects, so the prompt has the focus.
        wait::until_async("the prompt to have the focus", UI_TIMEOUT, || async {
            match app.focused().await.as_deref() {
                Some("prompt") => Ok(()),
                other => Err(format!("focused: {other:?}")),
            }
        })
        .await;
        assert_eq!(
            app.value_of(&tid("project-dir")).await.as_deref(),
            Some(path_str(&canonical(&project)))
        );

        // Type where the focus is, then Ctrl+Enter.
        let focus = app
            .client()
            .active_element()
            .await
            .expect("the focused element");
        focus
            .send_keys("fake: say typed after the tray")
            .await
            .expect("type the prompt");
        app.ctrl_enter(&tid("prompt")).await;
        let id = app.wait_task_view(REACT).await;
        assert_ne!(id, earlier);
        let page = wait_task_end_shown(&app, id, FINISH).await;
        assert_eq!(page.status.as_deref(), Some("completed"), "{page:#?}");
        assert_eq!(
            app.text_of(&tid("result-text")).await.as_deref(),
            Some("typed after the tray")
        );
        // Without a name, the task is named after the prompt.
        assert_eq!(
            app.text_of(&tid("task-title")).await.as_deref(),
            Some("fake: say typed after the tray")
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn tasks_and_their_status_outlive_a_quit_and_a_new_launch() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("ui-restart", Launch::default()).await;
        let tray = app.tray().await;
        let project = app.project("restart");
        let done = app
            .launch_from_form(
                &project,
                "e2e before restart",
                "fake: say made before the restart",
            )
            .await;
        let page = wait_task_end_shown(&app, done, FINISH).await;
        assert_eq!(page.status.as_deref(), Some("completed"), "{page:#?}");
        let failed = app
            .launch_from_form(&project, "e2e failing", "fake: result error it broke")
            .await;
        let page = wait_task_end_shown(&app, failed, FINISH).await;
        assert_eq!(page.status.as_deref(), Some("failed"), "{page:#?}");

        tray.click("Quit Tasktray").await.expect("click Quit");
        assert!(
            wait::holds_within(REACT, || app.exited()).await,
            "Quit did not end the app"
        );

        let started = Instant::now();
        let mut app = app.relaunch("ui-restart-again", Launch::default()).await;
        eprintln!("relaunched in {:?}", started.elapsed());
        app.wait_view("Tasks", UI_TIMEOUT).await;
        app.wait_row_status(done, "completed", UI_TIMEOUT).await;
        app.wait_row_status(failed, "failed", UI_TIMEOUT).await;
        for (id, name) in [(done, "e2e before restart"), (failed, "e2e failing")] {
            let row = app.text_of(&task_row(id)).await.unwrap_or_default();
            assert!(row.contains(name), "row {id}: {row:?}");
        }
        let tray = app.tray().await;
        let menu = tray.menu().await.expect("the menu");
        assert_eq!(
            menu.children.first().map(|h| h.label.as_str()),
            Some("No task running · 2 finished"),
            "\n{}",
            menu.outline()
        );

        // The finished task's output is still there.
        app.click(&task_row(done)).await;
        let page = app
            .wait_page("the old task's output", UI_TIMEOUT, |p| {
                if p.task_is(done, "completed")
                    && p.row("entry-text", "made before the restart").is_some()
                {
                    Ok(p.clone())
                } else {
                    Err("not yet".into())
                }
            })
            .await;
        assert!(page.result.is_some(), "{page:#?}");
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn quit_in_the_tray_menu_asks_in_the_window_while_a_task_runs() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("ui-quit-running", Launch::hidden()).await;
        let tray = app.tray().await;
        let project = app.project("quit");
        let id = app
            .spawn_task("e2e still running", "fake: tool-child; sleep 60", &project)
            .await;
        app.wait_task_status(id, "running", FINISH).await;
        wait_task_procs(&app, 3).await;

        tray.click("Quit Tasktray").await.expect("click Quit");
        main_window_shown(&app).await;
        app.wait_view("Quit Tasktray?", REACT).await;
        app.wait_text(
            &tid("confirm-quit-title"),
            "1 task is still running",
            UI_TIMEOUT,
        )
        .await;
        app.wait_text(
            &tid("confirm-quit"),
            &format!("#{id} e2e still running"),
            UI_TIMEOUT,
        )
        .await;
        assert_eq!(app.focused().await.as_deref(), Some("confirm-quit-keep"));
        app.gallery_screenshot("confirm-quit").await;

        // "Keep running" goes back and the task goes on.
        app.click(&tid("confirm-quit-keep")).await;
        app.wait_view("Tasks", UI_TIMEOUT).await;
        assert!(!app.exited());
        assert_eq!(app.task(id).await["status"], "running");

        tray.click("Quit Tasktray").await.expect("click Quit again");
        app.wait_view("Quit Tasktray?", REACT).await;
        let clicked = Instant::now();
        app.click(&tid("confirm-quit-yes")).await;
        // The tool child ignores SIGTERM: the app waits out the grace period (5 s) first.
        assert!(
            wait::holds_within(Duration::from_secs(20), || app.exited()).await,
            "the app still runs 20 s after confirming"
        );
        eprintln!(
            "the app exited {:?} after the confirmation",
            clicked.elapsed()
        );
        if let Err(left) = app.wait_nothing_left(REACT).await {
            panic!("processes left after quitting:\n{left}");
        }
        assert!(task_procs(&app).is_empty());
        app.finish().await;
    })
    .await;
}

/// Everything the page has of these tags, and any alert the output raised.
const MARKUP_PROBE: &str = r#"
const count = (s) => document.querySelectorAll(s).length;
return {
  img: count('img'),
  b: count('b'),
  i: count('i'),
  script: count('[data-testid="transcript"] script, [data-testid="task-header"] script'),
  alerts: window.__alerts || [],
};
"#;

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn output_that_looks_like_html_is_shown_as_text() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("ui-html", Launch::default()).await;
        // An alert would block the page (and the driver): record it instead.
        app.js(
            "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));",
            vec![],
        )
        .await;
        let project = app.project("html");
        let name = "<i>e2e</i> html";
        let prompt = "fake: say <img src=x onerror=alert(1)>; tool echo '<b>tool-bold</b>'; \
                      say <b>bold</b> & <i>italic</i>";
        let id = app.launch_from_form(&project, name, prompt).await;
        let page = wait_task_end_shown(&app, id, FINISH).await;
        assert_eq!(page.status.as_deref(), Some("completed"), "{page:#?}");

        for (kind, text) in [
            ("entry-text", "<img src=x onerror=alert(1)>"),
            ("entry-text", "<b>bold</b> & <i>italic</i>"),
            ("entry-tool-call", "echo '<b>tool-bold</b>'"),
            ("entry-tool-result", "<b>tool-bold</b>"),
        ] {
            assert!(
                page.row(kind, text).is_some(),
                "no {kind} {text:?}: {page:#?}"
            );
        }
        assert_eq!(
            app.text_of(&tid("result-text")).await.as_deref(),
            Some("<img src=x onerror=alert(1)>\n<b>bold</b> & <i>italic</i>")
        );
        assert_eq!(app.text_of(&tid("task-title")).await.as_deref(), Some(name));
        let markup = app.js(MARKUP_PROBE, vec![]).await;
        assert_eq!(
            markup,
            json!({"img": 0, "b": 0, "i": 0, "script": 0, "alerts": []}),
            "elements made from the output"
        );
        app.screenshot("transcript").await;

        // The raw lines (the agent's JSON) are text too.
        app.click(&tid("raw-mode")).await;
        let raw = app
            .wait_page("the raw lines", UI_TIMEOUT, |p| {
                if p.rows.iter().any(|r| r.kind == "raw-line") {
                    Ok(p.clone())
                } else {
                    Err("no raw line".into())
                }
            })
            .await;
        assert!(
            raw.row("raw-line", "<img src=x onerror=alert(1)>")
                .is_some(),
            "{raw:#?}"
        );
        assert_eq!(
            app.js(MARKUP_PROBE, vec![]).await,
            json!({"img": 0, "b": 0, "i": 0, "script": 0, "alerts": []})
        );

        // And in the list.
        app.click(&tid("back")).await;
        app.wait_row_status(id, "completed", UI_TIMEOUT).await;
        let row = app.text_of(&task_row(id)).await.unwrap_or_default();
        assert!(row.contains(name), "{row:?}");
        assert_eq!(
            app.js(MARKUP_PROBE, vec![]).await,
            json!({"img": 0, "b": 0, "i": 0, "script": 0, "alerts": []})
        );
        // The notification server reads markup (body-markup): the body arrives escaped, so it
        // too shows the text as written.
        let note = wait_note(&app, "e2e</i> html").await;
        assert_eq!(
            note.body,
            "&lt;img src=x onerror=alert(1)&gt;\n&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;italic&lt;/i&gt;",
            "{note:#?}"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn screenshots_of_the_main_views() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("ui-screenshots", Launch::default()).await;
        // A few tasks in different states, each in its own folder.
        let fixed = app
            .spawn_task(
                "Fix the login form",
                "fake: say Fixed the login form; tool echo 12 tests passed",
                &app.project("webapp"),
            )
            .await;
        let broken = app
            .spawn_task(
                "Upgrade the API client",
                "fake: say Trying the upgrade; result error The build failed: missing dependency",
                &app.project("api"),
            )
            .await;
        let dropped = app
            .spawn_task("Refactor the parser", "fake: sleep 30", &app.project("parser"))
            .await;
        app.wait_task_status(fixed, "completed", FINISH).await;
        app.wait_task_status(broken, "failed", FINISH).await;
        app.wait_task_status(dropped, "running", FINISH).await;
        app.cancel_task(dropped).await;
        app.wait_task_status(dropped, "cancelled", FINISH).await;
        let running = app
            .spawn_task(
                "Add a dark mode",
                "fake: say Looking at the code; tool echo from-the-tool; tool printf 'a\\nb\\nc\\n'; \
                 say Now editing the theme; sleep 30",
                &app.project("ui"),
            )
            .await;

        for (id, status) in [
            (fixed, "completed"),
            (broken, "failed"),
            (dropped, "cancelled"),
            (running, "running"),
        ] {
            app.wait_row_status(id, status, FINISH).await;
        }
        let list = app.gallery_screenshot("list").await;

        app.click(&task_row(running)).await;
        app.wait_page("the running task's tool calls", FINISH, |p| {
            let calls = p.rows.iter().filter(|r| r.kind == "entry-tool-call" && r.shown).count();
            if p.task_is(running, "running") && calls == 2 && p.row("entry-text", "Now editing").is_some() {
                Ok(())
            } else {
                Err(format!("{calls} tool calls shown"))
            }
        })
        .await;
        let task = app.gallery_screenshot("task-running").await;
        app.cancel_task(running).await;
        app.wait_task_status_shown(running, "cancelled", FINISH).await;

        app.click(&tid("back")).await;
        app.click(&task_row(fixed)).await;
        app.wait_page("the finished task", UI_TIMEOUT, |p| {
            if p.task_is(fixed, "completed") && p.result_shown {
                Ok(())
            } else {
                Err("not yet".into())
            }
        })
        .await;
        let finished = app.gallery_screenshot("task-completed").await;

        // The form with errors: a relative folder and no prompt.
        app.open_form().await;
        app.replace_text(&tid("project-dir"), "relative/folder").await;
        app.click(&tid("launch-submit")).await;
        app.wait_text(
            &tid("project-dir-error"),
            "Use an absolute path (starting with /).",
            UI_TIMEOUT,
        )
        .await;
        app.wait_text(&tid("prompt-error"), "Write what the agent should do.", UI_TIMEOUT)
            .await;
        let form = app.gallery_screenshot("form-error").await;

        app.click(&tid("open-settings")).await;
        app.wait_view("Settings", UI_TIMEOUT).await;
        app.wait_text(&tid("settings-agent"), "fake-claude", UI_TIMEOUT)
            .await;
        let settings = app.gallery_screenshot("settings").await;

        for shot in [list, task, finished, form, settings] {
            let png = fs::read(&shot).expect("read the screenshot");
            assert!(png.starts_with(b"\x89PNG"), "{} is no PNG", shot.display());
            eprintln!("screenshot: {}", shot.display());
        }
        app.finish().await;
    })
    .await;
}

/// The environment that points the real CLI at the mock, as tasktray-real-cli's tests set it
/// (`RealCli::isolated_env`), minus what the app's sandbox already isolates (HOME, XDG dirs).
fn real_cli_env(mock: &tasktray_real_cli::MockApi, claude_dir: &Path) -> Vec<(String, String)> {
    let config = claude_dir.join("config");
    let tmp = claude_dir.join("tmp");
    for dir in [&config, &tmp] {
        fs::create_dir_all(dir).expect("create the agent's folders");
    }
    let mut env: Vec<(String, String)> = vec![
        (
            "TASKTRAY_AGENT".into(),
            path_str(&tasktray_real_cli::claude_bin()).into(),
        ),
        ("CLAUDE_CONFIG_DIR".into(), path_str(&config).into()),
        ("CLAUDE_CODE_TMPDIR".into(), path_str(&tmp).into()),
        ("ANTHROPIC_BASE_URL".into(), mock.base_url()),
        (
            "ANTHROPIC_API_KEY".into(),
            tasktray_real_cli::DUMMY_API_KEY.into(),
        ),
        (
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
            "1".into(),
        ),
        ("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()),
        ("IS_SANDBOX".into(), "1".into()),
        ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
        ("no_proxy".into(), "127.0.0.1,localhost".into()),
        ("LANG".into(), "C.UTF-8".into()),
    ];
    // The developer's own endpoint, credentials and proxies must not reach the agent.
    for (key, _) in std::env::vars() {
        let upper = key.to_ascii_uppercase();
        let leaks = key.starts_with("ANTHROPIC_")
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY");
        if leaks && !env.iter().any(|(k, _)| *k == key) {
            env.push((key, String::new()));
        }
    }
    env
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn the_real_claude_code_runs_a_tool_from_the_form_and_notifies() {
    if !enabled() {
        return;
    }
    bounded(async {
        let claude_dir = tempfile::Builder::new()
            .prefix("tasktray-e2e-claude-")
            .tempdir()
            .expect("a temp dir for the agent");
        let mut first = tasktray_real_cli::bash("echo made-by-claude > from-claude.txt");
        first["text"] = json!("I will write the file.");
        let mock = tasktray_real_cli::MockApi::start(
            &claude_dir.path().join("mock"),
            &json!({"turns": [first, {"text": "The file from-claude.txt is written."}]}),
        );
        let launch = Launch {
            args: Vec::new(),
            env: real_cli_env(&mock, claude_dir.path()),
        };
        let app = App::launch("ui-real-claude", launch).await;
        let project = app.project("real");

        let started = Instant::now();
        let id = app
            .launch_from_form(
                &project,
                "e2e real claude",
                "Write the file from-claude.txt",
            )
            .await;
        // Claude Code asks before a command that writes a file ("Ask me" is the default).
        app.wait_shown(&tid("approval-card"), Duration::from_secs(40))
            .await;
        assert_eq!(
            app.text_of(&tid("approval-command")).await.as_deref(),
            Some("echo made-by-claude > from-claude.txt")
        );
        assert!(!project.join("from-claude.txt").exists());
        app.gallery_screenshot("task-real-claude-asks").await;
        app.click(&tid("approve-allow")).await;
        let page = wait_task_end_shown(&app, id, Duration::from_secs(40)).await;
        eprintln!(
            "the real CLI's task ended {:?} after Start",
            started.elapsed()
        );
        let record = app.task(id).await;
        let output = app.invoke("task_output", json!({ "id": id })).await;
        assert_eq!(
            page.status.as_deref(),
            Some("completed"),
            "{page:#?}\n{record:#}\noutput: {output:#?}\nmock calls: {}\nmock stderr:\n{}",
            mock.model_calls().len(),
            mock.stderr_text()
        );

        assert_eq!(
            fs::read_to_string(project.join("from-claude.txt"))
                .ok()
                .as_deref(),
            Some("made-by-claude\n"),
            "the Bash tool wrote the file in the project"
        );
        let call = page
            .row("entry-tool-call", "echo made-by-claude > from-claude.txt")
            .unwrap_or_else(|| panic!("no tool call row: {page:#?}"));
        assert!(call.text.contains("Bash"), "{call:?}");
        assert!(
            page.row("entry-text", "I will write the file.").is_some(),
            "{page:#?}"
        );
        assert_eq!(
            app.text_of(&tid("result-text")).await.as_deref(),
            Some("The file from-claude.txt is written.")
        );
        app.gallery_screenshot("task-real-claude").await;

        let note = wait_note(&app, "e2e real claude").await;
        summary_secs(&note.summary, "✓ Completed: e2e real claude");
        assert_eq!(note.body, "The file from-claude.txt is written.");

        let calls = mock.model_calls();
        assert_eq!(calls.len(), 2, "{calls:#?}");
        assert_eq!(
            calls[0]["headers"]["x-api-key"],
            tasktray_real_cli::DUMMY_API_KEY
        );
        app.finish().await;
        drop(mock);
    })
    .await;
}

/// Issue 4: an API error from the real CLI reaches the user whole: the task view, the
/// transcript file and the notification all carry claude's own message.
#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_real_claude_api_error_shows_its_message_in_the_view_the_transcript_and_the_notification()
{
    if !enabled() {
        return;
    }
    bounded(async {
        let claude_dir = tempfile::Builder::new()
            .prefix("tasktray-e2e-claude-")
            .tempdir()
            .expect("a temp dir for the agent");
        let mock = tasktray_real_cli::MockApi::start(
            &claude_dir.path().join("mock"),
            &json!({"turns": [{"error": {"status": 500, "message": "the mock is down"}}]}),
        );
        let launch = Launch {
            args: Vec::new(),
            env: real_cli_env(&mock, claude_dir.path()),
        };
        let app = App::launch("ui-real-claude-error", launch).await;
        let project = app.project("down");
        let id = app
            .launch_from_form(&project, "e2e api error", "Say hello")
            .await;
        let page = wait_task_end_shown(&app, id, Duration::from_secs(40)).await;
        assert_eq!(page.status.as_deref(), Some("failed"), "{page:#?}");
        let shown = app.text_of(&tid("result-text")).await.unwrap_or_default();
        assert!(
            shown.contains("API Error: 500") && shown.contains("the mock is down"),
            "{shown:?}"
        );

        let transcript =
            fs::read_to_string(project.join(format!(".claude-tasks/task-{id}-output.md")))
                .expect("the transcript file");
        assert!(transcript.contains("**Status:** failed"), "{transcript}");
        assert!(transcript.contains("the mock is down"), "{transcript}");

        let note = wait_note(&app, "e2e api error").await;
        summary_secs(&note.summary, "✗ Failed: e2e api error");
        assert!(
            note.body.contains("API Error: 500") && note.body.contains("the mock is down"),
            "{note:#?}"
        );
        app.finish().await;
        drop(mock);
    })
    .await;
}
