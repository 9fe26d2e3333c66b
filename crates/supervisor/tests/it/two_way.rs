//! Two-way tasks: the agent asks, a host answers; messages and interrupts into a running task.

use std::time::Duration;

use supervisor::{
    ApprovalOutcome, Decision, Error, Event, Supervisor, TaskId, TaskStatus, DEFAULT_DENY_MESSAGE,
};
use tasktray_test_support::{bounded, next_broadcast, wait_until_async, Sandbox};
use tokio::sync::broadcast;

use crate::{config, request, start, task_processes, text_request};

const PATIENCE: Duration = Duration::from_secs(20);

/// Waits for the first event that `pick` accepts.
async fn next_event<T>(
    events: &mut broadcast::Receiver<Event>,
    pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    next_broadcast(events, PATIENCE, pick).await
}

/// The request id of the next approval task `id` asks for.
async fn next_request(events: &mut broadcast::Receiver<Event>, id: TaskId) -> (String, String) {
    next_event(events, |e| match e {
        Event::ApprovalRequested { task, approval } if *task == id => {
            Some((approval.request_id.clone(), approval.summary()))
        }
        _ => None,
    })
    .await
}

async fn resolution(events: &mut broadcast::Receiver<Event>, id: TaskId) -> ApprovalOutcome {
    next_event(events, |e| match e {
        Event::ApprovalResolved { task, outcome, .. } if *task == id => Some(*outcome),
        _ => None,
    })
    .await
}

async fn output_contains(sup: &Supervisor, id: TaskId, needle: &str) -> bool {
    wait_until_async(PATIENCE, || {
        sup.output_text(id).is_ok_and(|t| t.contains(needle))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_tool_runs_and_the_task_waits_until_then() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: ask Bash echo made > made.txt"))
            .expect("spawn");
        let (request_id, summary) = next_request(&mut events, id).await;
        assert_eq!(summary, "echo made > made.txt");
        assert!(
            wait_until_async(PATIENCE, || sup
                .get(id)
                .is_some_and(|r| r.status == TaskStatus::Waiting))
            .await,
            "a task with an open request is waiting"
        );
        let pending = sup.pending_approvals();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].task, id);
        assert_eq!(pending[0].tool, "Bash");
        assert!(
            !project.join("made.txt").exists(),
            "nothing runs before the answer"
        );

        sup.answer(id, &request_id, Decision::Allow)
            .expect("answer");
        assert_eq!(resolution(&mut events, id).await, ApprovalOutcome::Allowed);
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed, "{done:?}");
        assert_eq!(
            std::fs::read_to_string(project.join("made.txt")).expect("the tool ran"),
            "made\n"
        );
        assert!(sup.pending_approvals().is_empty());
        let text = sup.log_text(id).expect("log");
        assert!(
            text.contains("\"outcome\":\"allowed\""),
            "the answer is in the log: {text}"
        );
        // A second answer to the same request finds nothing to answer.
        assert!(matches!(
            sup.answer(id, &request_id, Decision::Allow),
            Err(Error::TaskNotRunning { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_tool_does_not_run_and_the_agent_reads_why() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(
                &project,
                "fake: ask Bash echo made > made.txt; ask Bash echo more > more.txt",
            ))
            .expect("spawn");
        let (first, _) = next_request(&mut events, id).await;
        sup.answer(
            id,
            &first,
            Decision::Deny {
                message: Some("not in this folder".into()),
            },
        )
        .expect("deny");
        let (second, _) = next_request(&mut events, id).await;
        sup.answer(id, &second, Decision::Deny { message: None })
            .expect("deny without a message");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(
            done.status,
            TaskStatus::Completed,
            "a denial does not fail the task"
        );
        assert!(!project.join("made.txt").exists());
        assert!(!project.join("more.txt").exists());
        let text = sup.log_text(id).expect("log");
        assert!(text.contains("ask denied: not in this folder"), "{text}");
        assert!(
            text.contains(&format!("ask denied: {DEFAULT_DENY_MESSAGE}")),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_always_answers_later_matching_requests_without_asking() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(
                &project,
                "fake: ask Bash echo made > a.txt; ask Bash echo made > b.txt; ask Bash rm -f a.txt",
            ))
            .expect("spawn");
        let (first, _) = next_request(&mut events, id).await;
        sup.answer(id, &first, Decision::AllowAlways).expect("always");
        // The second matches the suggested rule `echo made *`: no question. The third does not.
        let (third, summary) = next_request(&mut events, id).await;
        assert_eq!(summary, "rm -f a.txt");
        sup.answer(id, &third, Decision::Deny { message: None })
            .expect("deny");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(project.join("a.txt").exists() && project.join("b.txt").exists());
        let text = sup.log_text(id).expect("log");
        assert_eq!(text.matches("\"outcome\":\"allowedByRule\"").count(), 1, "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_is_denied_when_its_time_runs_out() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.approval_timeout = Some(Duration::from_millis(300));
        let sup = start(config);
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: ask Bash echo made > made.txt"))
            .expect("spawn");
        let (_, _) = next_request(&mut events, id).await;
        assert!(sup.pending_approvals()[0].expires_at_ms.is_some());
        assert_eq!(resolution(&mut events, id).await, ApprovalOutcome::TimedOut);
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(!project.join("made.txt").exists());
        let text = sup.log_text(id).expect("log");
        assert!(text.contains("Tasktray denied this request"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_waiting_withdraws_the_request_and_stops_the_tree() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: ask Bash echo made > made.txt"))
            .expect("spawn");
        let (request_id, _) = next_request(&mut events, id).await;
        let done = sup.cancel(id).await.expect("cancel");
        assert_eq!(done.status, TaskStatus::Cancelled);
        assert_eq!(
            resolution(&mut events, id).await,
            ApprovalOutcome::Withdrawn
        );
        assert!(sup.pending_approvals().is_empty());
        assert!(task_processes(&sup, id).is_empty(), "nothing left");
        assert!(sup.answer(id, &request_id, Decision::Allow).is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_waiting_tasks_each_get_their_own_answer() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let (a, b) = (sandbox.project("a"), sandbox.project("b"));
        let ta = sup
            .spawn(request(&a, "fake: ask Bash echo a > out.txt"))
            .expect("spawn a");
        let tb = sup
            .spawn(request(&b, "fake: ask Bash echo b > out.txt"))
            .expect("spawn b");
        let mut open = Vec::new();
        while open.len() < 2 {
            open.push(
                next_event(&mut events, |e| match e {
                    Event::ApprovalRequested { task, approval } => {
                        Some((*task, approval.request_id.clone()))
                    }
                    _ => None,
                })
                .await,
            );
        }
        assert_eq!(sup.pending_approvals().len(), 2);
        for (task, request_id) in &open {
            let decision = if *task == ta {
                Decision::Allow
            } else {
                Decision::Deny { message: None }
            };
            sup.answer(*task, request_id, decision).expect("answer");
        }
        // An answer names its task: the other task's request id is not one of this task's.
        let (_, a_request) = open.iter().find(|(t, _)| *t == ta).expect("a asked");
        assert!(matches!(
            sup.answer(tb, a_request, Decision::Allow),
            Err(Error::ApprovalNotFound { .. } | Error::TaskNotRunning { .. })
        ));
        sup.wait(ta).await.expect("wait a");
        sup.wait(tb).await.expect("wait b");
        assert!(a.join("out.txt").exists());
        assert!(!b.join("out.txt").exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_the_turn_and_a_new_message_continues_the_session() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: say working; tool sleep 300"))
            .expect("spawn");
        assert!(output_contains(&sup, id, "working").await);
        let before = task_processes(&sup, id).len();
        sup.interrupt(id).expect("interrupt");
        let status = next_event(&mut events, |e| match e {
            Event::StatusChanged { task, status } if *task == id => Some(*status),
            _ => None,
        })
        .await;
        assert_eq!(
            status,
            TaskStatus::Waiting,
            "it waits for a new instruction"
        );
        let left = task_processes(&sup, id).len();
        assert!(
            left < before,
            "the tool stopped ({before} -> {left} processes)"
        );
        sup.send(id, "fake: say second turn").expect("send");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed, "{done:?}");
        let text = sup.log_text(id).expect("log");
        assert!(text.contains("second turn"), "{text}");
        assert!(text.contains("\"subtype\":\"interrupt\""), "{text}");
        assert!(text.contains("\"subtype\":\"message\""), "{text}");
        assert!(task_processes(&sup, id).is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_turn_with_no_new_instruction_ends_as_cancelled() {
    bounded(async {
        let sandbox = Sandbox::new();
        let mut config = config(&sandbox);
        config.approval_timeout = Some(Duration::from_millis(400));
        let sup = start(config);
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: say working; sleep 300"))
            .expect("spawn");
        assert!(output_contains(&sup, id, "working").await);
        sup.interrupt(id).expect("interrupt");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Cancelled, "{done:?}");
        assert!(sup
            .log_text(id)
            .expect("log")
            .contains("No new instruction"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_a_running_task_within_or_after_its_turn() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        // Taken into the running turn: one result covers both.
        let id = sup
            .spawn(request(
                &sandbox.project("a"),
                "fake: say ready; wait-message",
            ))
            .expect("spawn");
        assert!(output_contains(&sup, id, "ready").await);
        sup.send(id, "use tabs").expect("send");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(sup
            .log_text(id)
            .expect("log")
            .contains("got message: use tabs"));

        // Queued: a turn of its own after the current one; the task ends after both.
        let id = sup
            .spawn(request(&sandbox.project("b"), "fake: say first; sleep 1"))
            .expect("spawn");
        assert!(output_contains(&sup, id, "first").await);
        sup.send(id, "fake: say second").expect("send");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        let text = sup.log_text(id).expect("log");
        assert_eq!(text.matches("\"type\":\"result\"").count(), 2, "{text}");
        assert_eq!(done.result.expect("result").text, "second");
        // The task is over: nothing more can be sent.
        assert!(matches!(
            sup.send(id, "late"),
            Err(Error::TaskNotRunning { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_of_a_task_whose_agent_dies_is_withdrawn() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let mut events = sup.subscribe();
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: ask Bash echo made > made.txt"))
            .expect("spawn");
        next_request(&mut events, id).await;
        let shim = sup.get(id).and_then(|r| r.shim).expect("shim").pid;
        // The agent is the shim's child; kill it as a crash would.
        for pid in task_processes(&sup, id) {
            if pid != shim {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        assert_eq!(
            resolution(&mut events, id).await,
            ApprovalOutcome::Withdrawn
        );
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Failed);
        assert!(sup.pending_approvals().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_is_answered_with_an_error_and_nothing_breaks() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let id = sup
            .spawn(request(
                &sandbox.project("p"),
                "fake: bad-control; say still here",
            ))
            .expect("spawn");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed, "{done:?}");
        let text = sup.log_text(id).expect("log");
        assert!(text.contains("bad-control answered: error"), "{text}");
        assert!(text.contains("still here"), "{text}");
        assert!(text.contains("Ignored a malformed request"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_and_messages_get_typed_errors() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let id = sup
            .spawn(request(
                &sandbox.project("p"),
                "fake: say ready; wait-message",
            ))
            .expect("spawn");
        assert!(output_contains(&sup, id, "ready").await);
        assert!(matches!(
            sup.answer(id, "no-such-request", Decision::Allow),
            Err(Error::ApprovalNotFound { .. })
        ));
        assert!(matches!(sup.send(id, "  "), Err(Error::EmptyMessage)));
        assert!(matches!(
            sup.answer(TaskId(999), "x", Decision::Allow),
            Err(Error::TaskNotFound { .. })
        ));
        sup.send(id, "done now").expect("send");
        sup.wait(id).await.expect("wait");

        let text = sup
            .spawn(text_request(&sandbox.project("t"), "fake: sleep 30"))
            .expect("spawn a text task");
        assert!(matches!(sup.send(text, "hi"), Err(Error::NotTwoWay { .. })));
        assert!(matches!(sup.interrupt(text), Err(Error::NotTwoWay { .. })));
        sup.cancel(text).await.expect("cancel");
    })
    .await;
}
