//! Tasks seen from the tray and the notification server. Tasks are started through the app's
//! own `spawn_task` command from inside its webview (no UI needed); the agent is fake-claude.
//! Run with tests/e2e/run.sh (skipped otherwise).
//!
//! These caught the shim losing SIGCHLD and SIGTERM to a JavaScriptCore thread when `tasktray`
//! re-executed itself as a task's shim (tests/e2e/README.md, "Pitfalls"): a task that stayed
//! `running` with a zombie agent, and a cancel that orphaned the agent and its tools.

use std::time::{Duration, Instant};

use tasktray_e2e::procs::{self, MARKER_ENV};
use tasktray_e2e::tray::MenuItem;
use tasktray_e2e::{enabled, notifications, wait, x11, App, Launch};
use tasktray_test_support::bounded;

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the tray, a window or a notification gets to follow.
const REACT: Duration = Duration::from_secs(10);

fn header_is(expected: &str) -> impl Fn(&MenuItem) -> Result<(), String> + '_ {
    move |menu| match menu.children.first() {
        Some(first) if first.label == expected => Ok(()),
        other => Err(format!("header {:?}", other.map(|h| &h.label))),
    }
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_finished_task_shows_in_the_tray_and_notifies_with_a_show_action() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("task-notify", Launch::hidden()).await;
        let tray = app.tray().await;
        let project = app.project("hello");
        let id = app
            .spawn_task("e2e hello", "fake: say hi from e2e", &project)
            .await;
        let task = app.wait_task_status(id, "completed", FINISH).await;
        assert_eq!(task["result"]["text"], "hi from e2e", "{task:#}");

        let menu = tray
            .wait_menu(
                "the tray to count the task",
                REACT,
                header_is("No task running · 1 finished"),
            )
            .await;
        let recent = menu.find(&["Recent"]).expect("a Recent menu");
        assert_eq!(recent.labels(), [format!("✓ #{id} e2e hello")]);

        let note = wait::until("the notification", REACT, || {
            let notes = app.notifications();
            notes
                .iter()
                .find(|n| n.summary.contains("e2e hello"))
                .cloned()
                .ok_or_else(|| format!("{notes:?}"))
        })
        .await;
        assert_eq!(note.app_name, "Tasktray");
        assert!(
            note.summary.starts_with("✓ Completed: e2e hello ("),
            "{note:?}"
        );
        assert_eq!(note.body, "hi from e2e");
        assert!(
            note.action_keys().contains(&"show") && note.action_keys().contains(&"default"),
            "{note:?}"
        );
        assert!(project
            .join(".claude-tasks")
            .join(format!("task-{id}-output.md"))
            .is_file());

        // The user clicks "Show" on the notification: the hidden window opens.
        assert!(x11::window_titled(app.pid(), "Tasktray").map_or(true, |w| !w.viewable));
        notifications::invoke(note.id, "show").expect("invoke the action");
        wait::until("the window to open from the notification", REACT, || {
            x11::window_titled(app.pid(), "Tasktray").and_then(|w| {
                if w.viewable {
                    Ok(())
                } else {
                    Err(format!("{w:?}"))
                }
            })
        })
        .await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_stuck_notification_server_blocks_nothing() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("notify-hang", Launch::hidden()).await;
        app.hang_notifications();
        let tray = app.tray().await;
        let project = app.project("stuck");

        let first = app.spawn_task("e2e first", "fake: say one", &project).await;
        app.wait_task_status(first, "completed", FINISH).await;
        wait::until("the first Notify call", REACT, || {
            let notes = app.notifications();
            notes
                .iter()
                .find(|n| n.summary.contains("e2e first") && !n.answered)
                .map(drop)
                .ok_or_else(|| format!("{notes:?}"))
        })
        .await;

        // With that call unanswered, the next task runs, finishes and notifies as usual.
        let started = Instant::now();
        let second = app
            .spawn_task("e2e second", "fake: say two", &project)
            .await;
        app.wait_task_status(second, "completed", FINISH).await;
        eprintln!("the second task took {:?}", started.elapsed());
        wait::until("the second Notify call", REACT, || {
            let notes = app.notifications();
            notes
                .iter()
                .find(|n| n.summary.contains("e2e second"))
                .map(drop)
                .ok_or_else(|| format!("{notes:?}"))
        })
        .await;
        tray.wait_menu(
            "the tray to count both tasks",
            REACT,
            header_is("No task running · 2 finished"),
        )
        .await;

        // The app gives up on the server (SHOW_TIMEOUT in notify.rs is 5 s) and says so.
        wait::until("the app to log the timeout", REACT, || {
            let log = app.log_text();
            if log.contains("notification server did not answer") {
                Ok(())
            } else {
                Err(log)
            }
        })
        .await;

        let clicked = Instant::now();
        tray.click("Quit Tasktray").await.expect("click Quit");
        assert!(
            wait::holds_within(REACT, || app.exited()).await,
            "Quit did not end the app within {REACT:?}"
        );
        eprintln!("the app exited {:?} after Quit", clicked.elapsed());
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn cancel_in_the_tray_menu_stops_the_whole_task_tree() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("tray-cancel", Launch::hidden()).await;
        let tray = app.tray().await;
        let project = app.project("sleeper");
        let id = app
            .spawn_task("e2e sleeper", "fake: tool-child; sleep 60", &project)
            .await;
        app.wait_task_status(id, "running", FINISH).await;
        // The shim, fake-claude, and its tool child in its own session, all marked.
        let task_procs = || procs::marked_with(MARKER_ENV, &app.marker, "TASKTRAY_TASK");
        wait::until("the task's processes", REACT, || {
            let pids = task_procs();
            if pids.len() >= 3 {
                Ok(())
            } else {
                Err(procs::describe_all(&pids))
            }
        })
        .await;

        let running = format!("#{id} e2e sleeper");
        let menu = tray
            .wait_menu(
                "the tray to show the running task",
                REACT,
                header_is("1 task running · 0 finished"),
            )
            .await;
        let entry = menu
            .find(&["Running (1)", &running])
            .unwrap_or_else(|| panic!("no {running:?} under Running (1):\n{}", menu.outline()));
        assert_eq!(entry.labels(), ["Show", "Cancel"]);

        tray.click(&format!("Running (1) > {running} > Cancel"))
            .await
            .expect("click Cancel");
        // The tool child ignores SIGTERM: it goes at the end of the grace period (5 s).
        app.wait_task_status(id, "cancelled", FINISH).await;
        if !wait::holds_within(REACT, || task_procs().is_empty()).await {
            panic!(
                "task processes left after the cancel:\n{}",
                procs::describe_all(&task_procs())
            );
        }
        let menu = tray
            .wait_menu(
                "the tray to count the cancelled task",
                REACT,
                header_is("No task running · 1 finished"),
            )
            .await;
        assert_eq!(
            menu.find(&["Recent"]).expect("Recent").labels(),
            [format!("■ #{id} e2e sleeper")]
        );

        // Quit, so that any notification the app would send has been sent; none is for a
        // cancelled task.
        tray.click("Quit Tasktray").await.expect("click Quit");
        assert!(wait::holds_within(REACT, || app.exited()).await);
        let notes = app.notifications();
        assert!(
            notes.iter().all(|n| !n.summary.contains("e2e sleeper")),
            "a cancelled task notified: {notes:?}"
        );
        app.finish().await;
    })
    .await;
}
