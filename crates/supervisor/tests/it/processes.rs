//! Whole-tree ownership: cancel, normal exit and the project lock leave nothing running and
//! no zombie, including tool processes in their own session that ignore SIGTERM.

use std::time::{Duration, Instant};

use supervisor::TaskRecord;
use supervisor::{Error, TaskStatus};
use tasktray_test_support::{alive, bounded, wait_until_async, zombie_children, Sandbox};

use crate::{config, printed_pid, request, run_to_end, start, task_processes, TEST_GRACE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_a_setsid_tool_that_ignores_sigterm_and_releases_the_project() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: tool-child; sleep 60"))
            .expect("spawn");
        assert!(
            wait_until_async(Duration::from_secs(10), || printed_pid(
                &sup,
                id,
                "tool-child pid"
            )
            .is_some())
            .await
        );
        let tool = printed_pid(&sup, id, "tool-child pid").expect("tool pid");
        assert!(alive(tool));
        assert!(matches!(
            sup.spawn(request(&project, "second")),
            Err(Error::ProjectBusy { task_id, .. }) if task_id == id
        ));

        let started = Instant::now();
        let done = sup.cancel(id).await.expect("cancel");
        let took = started.elapsed();
        assert_eq!(done.status, TaskStatus::Cancelled);
        assert!(!alive(tool), "the SIGTERM-ignoring tool {tool} survived");
        assert!(task_processes(&sup, id).is_empty());
        assert_shim_reaped(&done);
        // The tool ignores SIGTERM, so the grace period ran out, and not much more.
        assert!(took >= TEST_GRACE, "took {took:?}");

        let next = run_to_end(&sup, request(&project, "the project is free")).await;
        assert_eq!(next.status, TaskStatus::Completed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_tree_that_honours_sigterm_does_not_wait_for_the_grace_period() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.grace = Duration::from_secs(30);
        let sup = start(config);
        let id = sup
            .spawn(request(&sandbox.project("p"), "fake: say up; sleep 60"))
            .expect("spawn");
        assert!(
            wait_until_async(Duration::from_secs(10), || {
                sup.output_text(id).is_ok_and(|t| t.contains("up"))
            })
            .await
        );
        let started = Instant::now();
        let done = sup.cancel(id).await.expect("cancel");
        assert_eq!(done.status, TaskStatus::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited for the whole grace period"
        );
        assert!(task_processes(&sup, id).is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_traps_sigterm_is_killed_after_the_grace_period() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let id = sup
            .spawn(request(
                &sandbox.project("p"),
                "fake: trap-term; say trapped; sleep 60",
            ))
            .expect("spawn");
        assert!(
            wait_until_async(Duration::from_secs(10), || {
                sup.output_text(id).is_ok_and(|t| t.contains("trapped"))
            })
            .await
        );
        let done = sup.cancel(id).await.expect("cancel");
        assert_eq!(
            done.status,
            TaskStatus::Cancelled,
            "cancelled whatever the exit"
        );
        assert!(task_processes(&sup, id).is_empty());
        assert!(matches!(
            sup.cancel(id).await,
            Err(Error::TaskNotRunning { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_left_behind_by_a_finished_agent_is_stopped() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let done = run_to_end(
            &sup,
            request(&sandbox.project("p"), "fake: daemon; say bye"),
        )
        .await;
        assert_eq!(done.status, TaskStatus::Completed);
        let daemon = printed_pid(&sup, done.id, "daemon pid").expect("daemon pid printed");
        assert!(!alive(daemon), "daemon {daemon} outlived its task");
        assert!(task_processes(&sup, done.id).is_empty());
        assert_shim_reaped(&done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_task_per_project_even_when_spawned_at_the_same_instant() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (sup, project, barrier) = (sup.clone(), project.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    sup.spawn(request(&project, "fake: sleep 30"))
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        for result in &results {
            if let Err(e) = result {
                assert_eq!(e.code(), "ProjectBusy", "{e}");
            }
        }
        // Another project is not affected.
        let other = sup
            .spawn(request(&sandbox.project("q"), "fake: sleep 30"))
            .expect("other project");
        sup.shutdown(Duration::from_secs(10)).await;
        assert!(task_processes(&sup, *won[0]).is_empty() && task_processes(&sup, other).is_empty());
    })
    .await;
}

/// The task's shim (the only child the supervisor had for it) is gone and reaped: neither
/// alive nor a zombie. Other tests' shims may be zombies for an instant, so only this one is
/// checked.
fn assert_shim_reaped(task: &TaskRecord) {
    let shim = task.shim.expect("the shim was recorded").pid;
    assert!(!alive(shim), "shim {shim} still runs");
    assert!(
        !zombie_children().contains(&shim),
        "shim {shim} was not reaped"
    );
}
