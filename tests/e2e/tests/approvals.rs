//! Two-way tasks in the real app: the agent (fake-claude) asks before a tool, and the user
//! answers from a notification, the tray menu or the task view, or steers the running task.
//! Run with tests/e2e/run.sh (skipped otherwise).

use std::time::Duration;

use tasktray_e2e::tray::MenuItem;
use tasktray_e2e::ui::tid;
use tasktray_e2e::{enabled, notifications, wait, App, Launch};
use tasktray_test_support::bounded;

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the tray, a window or a notification gets to follow.
const REACT: Duration = Duration::from_secs(10);

/// The request notification of task `id`.
async fn request_note(app: &App, id: u64) -> notifications::Note {
    let summary = format!("Task #{id} asks to run Bash");
    wait::until("the request's notification", REACT, || {
        let notes = app.notifications();
        notes
            .iter()
            .find(|n| n.summary == summary)
            .cloned()
            .ok_or_else(|| format!("{notes:?}"))
    })
    .await
}

fn waiting_section(menu: &MenuItem) -> Result<&MenuItem, String> {
    menu.children
        .iter()
        .find(|c| c.label.starts_with("Waiting for you ("))
        .ok_or_else(|| "no \"Waiting for you\" section".to_owned())
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn allow_from_the_notification_runs_the_tool() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("approve-notify", Launch::hidden()).await;
        let tray = app.tray().await;
        let project = app.project("p");
        let id = app
            .spawn_task("asks", "fake: ask Bash touch made.txt; say over", &project)
            .await;
        app.wait_task_status(id, "waiting", FINISH).await;
        let note = request_note(&app, id).await;
        assert_eq!(note.body, "touch made.txt", "{note:?}");
        for key in ["allow", "deny", "show", "default"] {
            assert!(note.action_keys().contains(&key), "{key}: {note:?}");
        }
        let menu = tray
            .wait_menu("the tray to list the request", REACT, |menu| {
                let section = waiting_section(menu)?;
                (section.label == "Waiting for you (1)"
                    && section.labels() == [format!("#{id} Bash: touch made.txt")])
                .then_some(())
                .ok_or_else(|| format!("{:?}", section.labels()))
            })
            .await;
        assert!(
            menu.children[0].label.ends_with("1 waiting for you"),
            "{}",
            menu.outline()
        );
        assert!(
            !project.join("made.txt").exists(),
            "nothing runs before the answer"
        );

        notifications::invoke(note.id, "allow").expect("click Allow");
        let task = app.wait_task_status(id, "completed", FINISH).await;
        assert_eq!(task["result"]["text"], "ask allowed\nover", "{task:#}");
        assert!(project.join("made.txt").exists());
        tray.wait_menu("the section to go", REACT, |menu| {
            match waiting_section(menu) {
                Ok(_) => Err("still waiting".into()),
                Err(_) => Ok(()),
            }
        })
        .await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn deny_from_the_tray_menu_closes_the_notification() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("approve-tray", Launch::hidden()).await;
        let tray = app.tray().await;
        let project = app.project("p");
        let id = app
            .spawn_task("asks", "fake: ask Bash touch made.txt", &project)
            .await;
        let note = request_note(&app, id).await;
        let label = format!("#{id} Bash: touch made.txt");
        tray.click(&format!("Waiting for you (1) > {label} > Deny"))
            .await
            .expect("click Deny in the tray");
        let task = app.wait_task_status(id, "completed", FINISH).await;
        assert!(
            task["result"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("ask denied: The user denied this tool call.")),
            "{task:#}"
        );
        assert!(!project.join("made.txt").exists());
        wait::until("the notification to be closed", REACT, || {
            let closed = app.closed_notifications();
            closed
                .contains(&note.id)
                .then_some(())
                .ok_or_else(|| format!("closed {closed:?}, not {}", note.id))
        })
        .await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn deny_with_a_message_from_the_task_view() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("approve-view", Launch::default()).await;
        let project = app.project("p");
        let id = app
            .launch_from_form(
                &project,
                "asks in the view",
                "fake: ask Bash touch made.txt",
            )
            .await;
        app.wait_shown(&tid("approval-card"), REACT).await;
        assert_eq!(
            app.text_of(&tid("approval-command")).await.as_deref(),
            Some("touch made.txt")
        );
        app.wait_text(&tid("status-badge"), "Waiting for you", REACT)
            .await;
        app.gallery_screenshot("task-approval").await;
        app.type_into(&tid("approve-message"), "Use the scratch folder instead.")
            .await;
        app.click(&tid("approve-deny")).await;
        let task = app.wait_task_status(id, "completed", FINISH).await;
        assert_eq!(
            task["result"]["text"], "ask denied: Use the scratch folder instead.",
            "{task:#}"
        );
        assert!(!project.join("made.txt").exists());
        app.wait_gone(&tid("approval-card"), REACT).await;
        app.wait_text(
            &tid("entry-answer"),
            "Use the scratch folder instead.",
            REACT,
        )
        .await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_message_sent_from_the_task_view_reaches_the_agent() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("steer-view", Launch::default()).await;
        let project = app.project("p");
        let id = app
            .launch_from_form(&project, "steered", "fake: say ready; wait-message")
            .await;
        app.wait_shown(&tid("message-box"), REACT).await;
        app.wait_text(&tid("entry-text"), "ready", REACT).await;
        app.type_into(&tid("message-text"), "Use tabs, not spaces.")
            .await;
        app.click(&tid("send-message")).await;
        let task = app.wait_task_status(id, "completed", FINISH).await;
        assert_eq!(
            task["result"]["text"], "ready\ngot message: Use tabs, not spaces.",
            "{task:#}"
        );
        app.wait_text(&tid("entry-message"), "Use tabs, not spaces.", REACT)
            .await;
        app.wait_gone(&tid("message-box"), REACT).await;
        app.finish().await;
    })
    .await;
}
