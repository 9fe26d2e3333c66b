//! Spawn, status, events, queries, follow-up, cleanup, shutdown.

use std::time::Duration;

use supervisor::{Error, Event, TaskStatus};
use tasktray_test_support::{bounded, wait_until_async, Sandbox};

use crate::{config, request, run_to_end, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_returns_at_once_and_the_task_completes_with_events_in_order() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: sleep 0.3; say hello there"))
            .expect("spawn");
        // The agent sleeps: spawn did not wait for it.
        let early = sup.get(id).expect("listed at once");
        assert!(early.status.is_active(), "{:?}", early.status);

        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(done.started_at_ms.is_some() && done.finished_at_ms.is_some());
        assert_eq!(done.exit, Some(supervisor::ExitInfo::Code(0)));
        assert!(done.session_id.is_some(), "session id from the init line");
        assert!(sup.output_text(id).expect("output").contains("hello there"));

        let mut kinds = Vec::new();
        while let Ok(event) = events.try_recv() {
            assert_eq!(event.task(), id);
            let kind = match event {
                Event::Spawned { .. } => "spawned",
                Event::Started { .. } => "started",
                Event::Output { .. } => "output",
                Event::Completed { .. } => "completed",
                other => panic!("unexpected event {other:?}"),
            };
            if kinds.last() != Some(&kind) {
                kinds.push(kind);
            }
        }
        assert_eq!(kinds, ["spawned", "started", "output", "completed"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_works_from_a_thread_outside_the_runtime() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let from_thread = sup.clone();
        let id = std::thread::spawn(move || from_thread.spawn(request(&project, "hi")))
            .join()
            .expect("thread")
            .expect("spawn from a plain thread");
        assert_eq!(
            sup.wait(id).await.expect("wait").status,
            TaskStatus::Completed
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_by_id_name_status_and_order() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut first = request(&sandbox.project("a"), "one");
        first.name = "Fix Login Bug".into();
        let first = run_to_end(&sup, first).await;
        let second = sup
            .spawn(request(&sandbox.project("b"), "fake: sleep 30"))
            .expect("spawn");

        assert_eq!(sup.find_by_name("login")[0].id, first.id);
        assert!(sup.find_by_name("nothing like it").is_empty());
        let all: Vec<_> = sup.all().iter().map(|r| r.id).collect();
        assert_eq!(all, vec![second, first.id], "newest first");
        let running: Vec<_> = sup.running().iter().map(|r| r.id).collect();
        assert_eq!(running, vec![second]);
        assert!(sup.get(supervisor::TaskId(999)).is_none());
        assert_eq!(
            sup.output_text(first.id).expect("output"),
            sup.output_text(first.id).expect("again")
        );
        assert!(sup.output_text(first.id).expect("output").contains("one"));
        sup.cancel(second).await.expect("cancel");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_status_comes_from_the_result_line_else_the_exit_code() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");

        let failed = run_to_end(&sup, request(&project, "fake: result error API Error: 500")).await;
        assert_eq!(failed.status, TaskStatus::Failed);
        let result = failed.result.expect("result line parsed");
        assert!(result.is_error);
        assert_eq!(result.text, "API Error: 500");

        let ok = run_to_end(&sup, request(&project, "fake: say fine")).await;
        assert_eq!(ok.status, TaskStatus::Completed);
        assert!(ok.result.expect("result").cost_usd.is_some());

        let exit3 = run_to_end(&sup, request(&project, "fake: say x; exit 3")).await;
        assert_eq!(exit3.status, TaskStatus::Failed);
        assert_eq!(exit3.exit, Some(supervisor::ExitInfo::Code(3)));

        let quiet = run_to_end(&sup, request(&project, "fake: exit 0")).await;
        assert_eq!(
            quiet.status,
            TaskStatus::Completed,
            "an agent that exits at once with 0"
        );

        let crashed = run_to_end(&sup, request(&project, "fake: crash SEGV")).await;
        assert_eq!(crashed.status, TaskStatus::Failed);
        assert_eq!(crashed.exit, Some(supervisor::ExitInfo::Signal(11)));
        let output = sup.output_text(crashed.id).expect("output");
        assert!(
            output.contains("signal 11"),
            "the reason is in the output: {output}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_resumes_the_session_as_a_linked_task() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let mut first = request(&project, "fake: say first answer");
        first.options.keep_session = true;
        let first = run_to_end(&sup, first).await;
        let session = first.session_id.clone().expect("session");

        let next = sup
            .follow_up(first.id, "and now?".into())
            .expect("follow-up");
        let next = sup.wait(next).await.expect("wait");
        assert_eq!(next.status, TaskStatus::Completed);
        assert_eq!(next.follow_up_of, Some(first.id));
        assert_eq!(next.options.resume.as_deref(), Some(session.as_str()));
        assert!(sup
            .output_text(next.id)
            .expect("output")
            .contains(&format!("resumed {session}")));

        let plain = run_to_end(&sup, request(&project, "no session kept")).await;
        assert!(matches!(
            sup.follow_up(plain.id, "more".into()),
            Err(Error::NoSession { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_forgets_finished_tasks_only() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let running = sup
            .spawn(request(&project, "fake: sleep 30"))
            .expect("spawn");
        assert!(matches!(
            sup.cleanup(running),
            Err(Error::TaskRunning { .. })
        ));
        sup.cancel(running).await.expect("cancel");

        let mut events = sup.subscribe();
        sup.cleanup(running).expect("cleanup after finish");
        assert!(sup.get(running).is_none());
        assert!(!sup.history().task_dir(running).exists());
        assert_eq!(
            events.recv().await.expect("event"),
            Event::Removed { task: running }
        );
        assert!(matches!(
            sup.cleanup(running),
            Err(Error::TaskNotFound { .. })
        ));
        // The project is free again.
        let again = run_to_end(&sup, request(&project, "again")).await;
        assert_eq!(again.status, TaskStatus::Completed);
        assert!(again.id > running, "ids are never reused");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_every_task_and_refuses_new_ones() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let a = sup
            .spawn(request(&sandbox.project("a"), "fake: tool-child; sleep 60"))
            .expect("a");
        let b = sup
            .spawn(request(&sandbox.project("b"), "fake: trap-term; sleep 60"))
            .expect("b");
        assert!(
            wait_until_async(Duration::from_secs(10), || crate::printed_pid(
                &sup,
                a,
                "tool-child pid"
            )
            .is_some())
            .await
        );
        sup.shutdown(Duration::from_secs(10)).await;
        for id in [a, b] {
            assert_eq!(sup.get(id).expect("task").status, TaskStatus::Cancelled);
            assert!(
                crate::task_processes(&sup, id).is_empty(),
                "task {id} left processes"
            );
        }
        assert!(matches!(
            sup.spawn(request(&sandbox.project("c"), "x")),
            Err(Error::ShuttingDown)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_right_after_the_end_never_meets_the_ended_task() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        for _ in 0..5 {
            // A long output makes the transcript slow to write, after the final status.
            let id = sup
                .spawn(crate::text_request(&project, "fake: flood 20000"))
                .expect("spawn");
            while sup.get(id).expect("task").status.is_active() {
                tokio::task::yield_now().await;
            }
            let next = sup.spawn(request(&project, "fake: say next"));
            assert!(next.is_ok(), "right after task {id} ended: {next:?}");
            sup.wait(next.expect("spawned")).await.expect("wait");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_racing_a_tasks_end_waits_for_its_last_writes() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        // A long log makes the transcript, written after the final status, take a while.
        let id = sup
            .spawn(crate::text_request(
                &sandbox.project("p"),
                "fake: flood 20000",
            ))
            .expect("spawn");
        loop {
            match sup.cleanup(id) {
                Ok(()) => break,
                Err(Error::TaskRunning { .. }) => tokio::task::yield_now().await,
                Err(e) => panic!("remove while it ends: {e}"),
            }
        }
        assert!(!sup.history().task_dir(id).exists(), "its files are gone");
        assert!(sup.get(id).is_none());
        assert!(sup.history().load_all().iter().all(|r| r.id != id));
        // Nothing of it failed to save on the way, and its transcript was written whole.
        while let Ok(event) = events.try_recv() {
            assert!(!matches!(event, Event::PersistFailed { .. }), "{event:?}");
        }
        let transcript = sandbox
            .project("p")
            .join(format!(".claude-tasks/task-{id}-output.md"));
        assert!(std::fs::read_to_string(transcript)
            .expect("transcript")
            .contains("```"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_told_and_catches_up_from_the_tail() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        // Subscribed, then not read while far more events than the channel keeps are sent.
        let mut events = sup.subscribe();
        let id = sup
            .spawn(crate::text_request(
                &sandbox.project("p"),
                "fake: flood 200000 40",
            ))
            .expect("spawn");
        let done = sup.wait(id).await.expect("wait");
        match events.recv().await {
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                assert!(missed > 0)
            }
            other => panic!("expected to be told it lagged, got {other:?}"),
        }
        // The way back: the tail now, numbered, ending with the task's last line.
        let attached = sup.attach(id).expect("attach");
        let last = attached.snapshot.last().expect("a tail");
        assert_eq!(last.seq + 1, done.line_count);
        let seqs: Vec<u64> = attached.snapshot.iter().map(|l| l.seq).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "consecutive");
    })
    .await;
}
