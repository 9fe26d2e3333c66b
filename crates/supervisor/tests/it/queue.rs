//! The queue: a busy project or the running limit queues a task, which starts by itself in
//! order, can be cancelled before it starts, and survives a restart.

use std::time::Duration;

use supervisor::{Error, Event, SpawnRequest, Supervisor, TaskId, TaskStatus};
use tasktray_test_support::{bounded, next_broadcast, wait_until_async, Sandbox};

use crate::{config, request, start};

const PATIENCE: Duration = Duration::from_secs(20);

/// A two-way task that runs until it is sent a message.
fn held(project: &std::path::Path, name: &str) -> SpawnRequest {
    let mut req = request(project, &format!("fake: say {name} runs; wait-message"));
    req.name = name.to_owned();
    req
}

fn queued(mut req: SpawnRequest) -> SpawnRequest {
    req.queue = true;
    req
}

fn status(sup: &Supervisor, id: TaskId) -> TaskStatus {
    sup.get(id).expect("task").status
}

/// Waits until the task runs (its agent printed `<name> runs`), then lets it end.
async fn release(sup: &Supervisor, id: TaskId) {
    let name = sup.get(id).expect("task").name;
    assert!(
        wait_until_async(PATIENCE, || sup
            .output_text(id)
            .is_ok_and(|t| t.contains(&format!("{name} runs"))))
        .await,
        "task {id} ({name}) did not start: {:?}",
        status(sup, id)
    );
    sup.send(id, "go on").expect("send");
    assert_eq!(
        sup.wait(id).await.expect("wait").status,
        TaskStatus::Completed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_project_queues_tasks_that_start_first_in_first_out() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let first = sup.spawn(held(&project, "first")).expect("spawn");
        let second = sup.spawn(queued(held(&project, "second"))).expect("queue");
        let third = sup.spawn(queued(held(&project, "third"))).expect("queue");
        assert_eq!(status(&sup, second), TaskStatus::Queued);
        assert_eq!(sup.queue(), vec![second, third]);
        assert!(sup.runs(second), "a queued task belongs to its supervisor");
        // Without the option a busy project still refuses.
        assert!(matches!(
            sup.spawn(held(&project, "refused")),
            Err(Error::ProjectBusy { task_id, .. }) if task_id == first
        ));
        // A queued task takes no messages yet.
        assert!(matches!(
            sup.send(second, "hello"),
            Err(Error::TaskQueued { .. })
        ));
        // Another project is not held up.
        let other = sup
            .spawn(queued(held(&sandbox.project("o"), "other")))
            .expect("spawn");
        assert_ne!(status(&sup, other), TaskStatus::Queued);

        release(&sup, first).await;
        assert!(wait_until_async(PATIENCE, || status(&sup, second) != TaskStatus::Queued).await);
        assert_eq!(status(&sup, third), TaskStatus::Queued, "behind the second");
        assert_eq!(sup.queue(), vec![third]);
        release(&sup, second).await;
        release(&sup, third).await;
        release(&sup, other).await;
        let [first, second, third] = [first, second, third].map(|id| sup.get(id).expect("task"));
        assert!(first.finished_at_ms <= second.started_at_ms);
        assert!(second.finished_at_ms <= third.started_at_ms);
        assert!(sup.queue().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_limit_queues_across_projects_and_can_be_raised() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.max_running = Some(1);
        let sup = start(config);
        let a = sup.spawn(held(&sandbox.project("a"), "a")).expect("spawn");
        // Over the limit a task is queued with or without the option.
        let b = sup.spawn(held(&sandbox.project("b"), "b")).expect("spawn");
        let c = sup
            .spawn(queued(held(&sandbox.project("c"), "c")))
            .expect("spawn");
        assert_eq!(sup.queue(), vec![b, c]);

        release(&sup, a).await;
        // b takes the one place; c still waits for it.
        assert!(wait_until_async(PATIENCE, || status(&sup, b) != TaskStatus::Queued).await);
        assert_eq!(status(&sup, c), TaskStatus::Queued);
        sup.configure(|config| config.max_running = None);
        assert!(
            wait_until_async(PATIENCE, || status(&sup, c) != TaskStatus::Queued).await,
            "raising the limit starts the queue"
        );
        release(&sup, b).await;
        release(&sup, c).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_task_is_cancelled_before_it_starts() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let first = sup.spawn(held(&project, "first")).expect("spawn");
        let second = sup.spawn(queued(held(&project, "second"))).expect("queue");
        let mut events = sup.subscribe();
        let waiter = tokio::spawn({
            let sup = sup.clone();
            async move { sup.wait(second).await }
        });
        let cancelled = sup.cancel(second).await.expect("cancel");
        assert_eq!(cancelled.status, TaskStatus::Cancelled);
        assert_eq!(cancelled.started_at_ms, None, "it never started");
        assert!(cancelled.finished_at_ms.is_some());
        assert_eq!(
            waiter.await.expect("join").expect("wait").status,
            TaskStatus::Cancelled,
            "a waiter learns it ended"
        );
        next_broadcast(&mut events, PATIENCE, |e| {
            matches!(e, Event::Cancelled { task } if *task == second).then_some(())
        })
        .await;
        assert!(sup.queue().is_empty());
        assert!(matches!(
            sup.request_cancel(second),
            Err(Error::TaskNotRunning { .. })
        ));
        release(&sup, first).await;
        assert_eq!(
            status(&sup, second),
            TaskStatus::Cancelled,
            "and never will"
        );
        assert_eq!(sup.log_text(second).unwrap_or_default(), "");
        // Saved as cancelled.
        let saved = sup.history().load_all();
        let saved = saved.iter().find(|r| r.id == second).expect("saved");
        assert_eq!(saved.status, TaskStatus::Cancelled);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_survives_a_restart() {
    bounded(async {
        let sandbox = Sandbox::new();
        let project = sandbox.project("p");
        let (first, second) = {
            let sup = start(config(&sandbox));
            let first = sup.spawn(held(&project, "first")).expect("spawn");
            let second = sup.spawn(queued(held(&project, "second"))).expect("queue");
            sup.shutdown(Duration::from_secs(5)).await;
            // Shutting down stops what runs and keeps what waits.
            assert_eq!(status(&sup, first), TaskStatus::Cancelled);
            assert_eq!(status(&sup, second), TaskStatus::Queued);
            (first, second)
        };
        // A host that holds the queue until it listens sees the queued task start.
        let mut held = config(&sandbox);
        held.hold_queue = true;
        let sup = start(held);
        assert_eq!(status(&sup, first), TaskStatus::Cancelled);
        assert_eq!(status(&sup, second), TaskStatus::Queued);
        let mut events = sup.subscribe();
        sup.open_queue();
        next_broadcast(&mut events, PATIENCE, |e| {
            matches!(e, Event::StatusChanged { task, status: TaskStatus::Pending } if *task == second)
                .then_some(())
        })
        .await;
        release(&sup, second).await;
    })
    .await;
}
