//! `taskctl` verbs that act on the app's tasks through its local API (the app stood in for as
//! in `common`).

mod common;

use common::{text, App, PATIENCE};
use supervisor::TaskId;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_hands_the_task_to_the_app_and_answers_its_questions() {
    bounded(async {
        let app = App::start(true);
        let project = app.sandbox.project("p");
        let dir = project.to_str().expect("UTF-8 path");
        let out = app
            .taskctl(&[
                "run",
                "--approve",
                "allow",
                "--dir",
                dir,
                "fake: say hello from the app; ask Bash touch x.txt",
            ])
            .await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(stderr.contains("run by Tasktray"), "{stderr}");
        assert!(stdout.contains("hello from the app"), "{stdout}");
        assert!(stdout.contains("✓ allowed"), "{stdout}");
        assert!(project.join("x.txt").exists());
        // The app ran it: it is this supervisor's task.
        let tasks = app.sup.all();
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert_eq!(tasks[0].status, TaskStatus::Completed);

        // --local keeps it in taskctl's own process: the app follows it, not runs it.
        let local = app
            .taskctl(&["run", "--local", "--dir", dir, "fake: say local"])
            .await;
        assert_eq!(local.status.code(), Some(0), "{}", text(&local.stderr));
        let id = TaskId(tasks[0].id.0 + 1);
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .get(id)
                .is_some_and(|t| t.status == TaskStatus::Completed))
            .await,
            "the app sees taskctl's own task end"
        );
        assert!(!app.sup.runs(id));
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_task_is_followed_from_another_terminal_and_cancelled_with_ctrl_c() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    bounded(async {
        let app = App::start(true);
        let dir = app.sandbox.project("p");
        let dir = dir.to_str().expect("UTF-8 path");
        let out = app
            .taskctl(&[
                "run",
                "--detach",
                "--dir",
                dir,
                "fake: say ready; sleep 300",
            ])
            .await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let id = text(&out.stdout).trim().to_owned();
        let task: TaskId = id.parse().expect("run --detach prints the id");
        assert!(app.sup.runs(task), "the app runs it");

        let mut follow = app
            .command()
            .args(["follow", &id])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("taskctl follow");
        let mut lines = BufReader::new(follow.stdout.take().expect("stdout")).lines();
        let seen = tokio::time::timeout(PATIENCE, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("ready") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(seen, Ok(true), "follow shows the output so far");
        let pid = follow.id().expect("pid") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .expect("Ctrl-C");
        let status = tokio::time::timeout(PATIENCE, follow.wait())
            .await
            .expect("follow ends")
            .expect("status");
        assert_eq!(status.code(), Some(130));
        assert_eq!(
            app.sup.get(task).expect("task").status,
            TaskStatus::Cancelled
        );

        // Without the app, --detach has nothing to hand the task to.
        let alone = App::start(false);
        let refused = alone
            .taskctl(&["run", "--detach", "--dir", dir, "fake: say x"])
            .await;
        assert_eq!(refused.status.code(), Some(2));
        assert!(text(&refused.stderr).contains("--detach needs Tasktray running"));
        alone.stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_taskctl_leaves_its_task_running_in_the_app() {
    bounded(async {
        let app = App::start(true);
        let dir = app.sandbox.project("p");
        let barrier = app.sandbox.path().join("go");
        let mut run = app
            .command()
            .args(["run", "--dir"])
            .arg(&dir)
            .arg(format!(
                "fake: say begun; wait-file {}; say finished",
                barrier.display()
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("taskctl run");
        assert!(
            wait_until_async(PATIENCE, || app.sup.all().first().is_some_and(|t| app
                .sup
                .output_text(t.id)
                .is_ok_and(|o| o.contains("begun"))))
            .await,
            "the app got the task"
        );
        run.kill().await.expect("SIGKILL taskctl");
        let id = app.sup.all()[0].id;
        // Only now may the task go on: it outlived the taskctl that started it.
        assert!(app.sup.runs(id), "still running in the app");
        std::fs::write(&barrier, b"go").expect("open the barrier");
        let done = tokio::time::timeout(PATIENCE, app.sup.wait(id))
            .await
            .expect("the task ends")
            .expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(done.result.expect("result").text, "begun\nfinished");
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_queue_waits_for_the_busy_project_then_runs_in_the_app() {
    bounded(async {
        let app = App::start(true);
        let busy = app.spawn("p", "fake: say ready; wait-message");
        let project = app.project("p");
        let project = project.to_str().expect("UTF-8 path");
        // Without --queue a busy folder is refused, naming the task that holds it.
        let refused = app
            .taskctl(&["run", "-d", project, "fake: say refused"])
            .await;
        assert_ne!(refused.status.code(), Some(0));
        assert!(
            text(&refused.stderr).contains(&format!("task {busy} is already running")),
            "{}",
            text(&refused.stderr)
        );

        let mut queued = app
            .command()
            .args(["run", "--queue", "-d", project, "fake: say after the queue"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("taskctl run --queue");
        // Its stderr as it comes: the busy task is released only once taskctl has said why
        // its task waits (released earlier, there is nothing left to wait for).
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = {
            let stderr = stderr.clone();
            let mut pipe = queued.stderr.take().expect("stderr");
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
                    stderr.lock().expect("stderr").push_str(&text(&chunk[..n]));
                }
            })
        };
        assert!(
            wait_until_async(PATIENCE, || app.sup.queue().len() == 1).await,
            "the task is queued in the app"
        );
        let id = app.sup.queue()[0];
        assert_eq!(app.sup.get(id).expect("task").status, TaskStatus::Queued);
        assert!(
            wait_until_async(PATIENCE, || stderr
                .lock()
                .expect("stderr")
                .contains("1st in line"))
            .await,
            "taskctl never said the task is queued: {}",
            stderr.lock().expect("stderr")
        );
        app.sup.send(busy, "go on").expect("release the busy task");

        let out = queued.wait_with_output().await.expect("taskctl ends");
        reader.await.expect("the stderr reader");
        let said = stderr.lock().expect("stderr").clone();
        assert_eq!(out.status.code(), Some(0), "{said}");
        assert!(
            said.contains(&format!(
                "task {id} is queued, 1st in line: it starts when task {busy} in this folder ends"
            )),
            "{said}"
        );
        assert!(said.contains(&format!("▶ task {id} starts")), "{said}");
        assert!(
            text(&out.stdout).contains("after the queue"),
            "{}",
            text(&out.stdout)
        );
        let done = app.sup.get(id).expect("task");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(done.started_at_ms >= app.sup.get(busy).expect("busy").finished_at_ms);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_takes_a_queued_task_out_of_the_apps_queue() {
    bounded(async {
        let app = App::start(true);
        let busy = app.spawn("p", "fake: say ready; wait-message");
        let project = app.project("p");
        let child = app
            .command()
            .args([
                "run",
                "--queue",
                "-d",
                project.to_str().expect("UTF-8"),
                "fake: say never",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("taskctl run --queue");
        assert!(wait_until_async(PATIENCE, || app.sup.queue().len() == 1).await);
        let id = app.sup.queue()[0];
        let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        let out = child.wait_with_output().await.expect("taskctl ends");
        assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
        let record = app.sup.get(id).expect("task");
        assert_eq!(record.status, TaskStatus::Cancelled);
        assert_eq!(record.started_at_ms, None, "it never ran");
        assert!(app.sup.runs(busy), "the running task goes on");
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_queued_task_says_it_is_queued_and_lists_as_queued() {
    bounded(async {
        let app = App::start(true);
        let busy = app.spawn("p", "fake: say ready; wait-message");
        let project = app.project("p");
        let out = app
            .taskctl(&[
                "run",
                "--detach",
                "--queue",
                "-d",
                project.to_str().expect("UTF-8"),
                "fake: say later",
            ])
            .await;
        let said = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{said}");
        let id = text(&out.stdout).trim().to_owned();
        assert!(
            said.contains(&format!(
                "task {id} is queued, 1st in line: it starts when task {busy} in this folder ends; `taskctl cancel {id}` takes it out of the queue"
            )),
            "{said}"
        );
        let listed = text(&app.taskctl(&["list"]).await.stdout);
        let row = listed
            .lines()
            .find(|l| l.trim_start().starts_with(&id))
            .unwrap_or_default()
            .to_owned();
        assert!(row.contains("◷ queued"), "{listed}");
        app.sup.send(busy, "go on").expect("release");
        let waited = app.taskctl(&["wait", &id]).await;
        assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
        app.stop().await;
    })
    .await;
}
