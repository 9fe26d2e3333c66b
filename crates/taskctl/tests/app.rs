//! `taskctl` verbs that act on the app's tasks through its local API (the app stood in for as
//! in `common`).

mod common;

use common::{text, App, PATIENCE};
use supervisor::TaskStatus;
use tasktray_test_support::{bounded, wait_until_async};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_listed_and_answered_from_the_terminal() {
    bounded(async {
        let app = App::start(true);
        let id = app.spawn("p", "fake: ask Bash touch x.txt; ask Bash touch y.txt");
        app.wait_asking(id, 1).await;
        let out = app.taskctl(&["approvals"]).await;
        let listed = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            listed.contains(&format!("#{id} Bash asks to use Bash: touch x.txt")),
            "{listed}"
        );

        let out = app.taskctl(&["approve", &id.to_string()]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("allowed"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .approvals(id)
                .first()
                .is_some_and(|a| a.summary() == "touch y.txt"))
            .await
        );
        let denied = app
            .taskctl(&["approve", &id.to_string(), "--deny", "--message", "not y"])
            .await;
        assert_eq!(denied.status.code(), Some(0), "{}", text(&denied.stderr));

        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
        assert!(app.project("p").join("x.txt").exists());
        assert!(!app.project("p").join("y.txt").exists());
        assert!(app
            .sup
            .log_text(id)
            .expect("log")
            .contains("ask denied: not y"));

        // Nothing left to answer: a clear error, exit 2.
        let none = app.taskctl(&["approve", &id.to_string()]).await;
        assert_eq!(none.status.code(), Some(2));
        assert!(!text(&none.stderr).is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_cancel_reach_the_apps_tasks() {
    bounded(async {
        let app = App::start(true);
        let id = app.spawn("a", "fake: say ready; wait-message");
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .output_text(id)
                .is_ok_and(|t| t.contains("ready")))
            .await
        );
        let sent = app.taskctl(&["send", &id.to_string(), "use tabs"]).await;
        assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
        let done = app.sup.get(id).expect("task");
        assert_eq!(
            done.result.expect("result").text,
            "ready\ngot message: use tabs"
        );

        let long = app.spawn("b", "fake: sleep 300");
        let cancelled = app.taskctl(&["cancel", &long.to_string()]).await;
        assert_eq!(
            cancelled.status.code(),
            Some(130),
            "{}",
            text(&cancelled.stderr)
        );
        assert_eq!(
            app.sup.get(long).expect("task").status,
            TaskStatus::Cancelled
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_the_verbs_say_so_and_wait_reads_the_history() {
    bounded(async {
        let app = App::start(false);
        let out = app.taskctl(&["approvals"]).await;
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("Tasktray is not running"),
            "{}",
            text(&out.stderr)
        );
        let id = app.spawn("p", "fake: sleep 0.3; result error it broke");
        let waited = app.taskctl(&["wait", &id.to_string()]).await;
        assert_eq!(
            waited.status.code(),
            Some(1),
            "a failed task: {}",
            text(&waited.stderr)
        );
        assert!(
            text(&waited.stderr).contains("it broke"),
            "{}",
            text(&waited.stderr)
        );
        app.stop().await;
    })
    .await;
}
