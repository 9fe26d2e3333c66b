//! Two-way tasks with the real Claude Code CLI against the mock Messages API: a tool that
//! needs permission is asked of the host (allowed, denied, allowed always), a turn is stopped
//! and the session goes on with a new message, and `taskctl --approve` answers for scripts.

use std::time::Duration;

use serde_json::Value;
use supervisor::transcript::Entry;
use supervisor::{
    Approval, ApprovalOutcome, Decision, Event, PermissionMode, SpawnRequest, Supervisor, TaskId,
    TaskStatus,
};
use tasktray_real_cli::{
    bash, cmdline, entries, json, message_texts, request, task_processes, transcript_file, RealCli,
};
use tasktray_test_support::{bounded, next_broadcast, wait_until_async};
use tokio::sync::broadcast;

/// How long a step of a real run may take (the outer bound is `bounded`).
const STEP: Duration = Duration::from_secs(30);

fn ask_me(project: &std::path::Path, prompt: &str) -> SpawnRequest {
    let mut req = request(project, prompt);
    req.options.permission_mode = PermissionMode::Default;
    req
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "missing {needle:?} in:\n{haystack}"
    );
}

async fn next_event<T>(
    events: &mut broadcast::Receiver<Event>,
    pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    next_broadcast(events, STEP, pick).await
}

async fn next_request(events: &mut broadcast::Receiver<Event>, id: TaskId) -> Approval {
    next_event(events, |e| match e {
        Event::ApprovalRequested { task, approval } if *task == id => Some((**approval).clone()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_bash_command_writes_its_file() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo made > made.txt"),
            {"text": "made.txt is written."}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(ask_me(&project, "Write made.txt"))
            .expect("spawn");
        let approval = next_request(&mut events, id).await;
        assert_eq!(approval.tool, "Bash");
        assert_eq!(approval.summary(), "echo made > made.txt");
        assert!(
            approval
                .blocked_path
                .as_deref()
                .is_some_and(|p| p.ends_with("made.txt")),
            "{approval:?}"
        );
        assert!(
            !project.join("made.txt").exists(),
            "nothing runs before the answer"
        );
        assert!(
            wait_until_async(STEP, || sup
                .get(id)
                .is_some_and(|t| t.status == TaskStatus::Waiting))
            .await,
            "a task with an open request is waiting"
        );
        sup.answer(id, &approval.request_id, Decision::Allow)
            .expect("allow");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(
            done.status,
            TaskStatus::Completed,
            "{:?}",
            sup.output_text(id)
        );
        assert_eq!(
            std::fs::read_to_string(project.join("made.txt")).expect("written"),
            "made\n"
        );
        let transcript = transcript_file(&done);
        assert_contains(&transcript, "? Bash asks to run: echo made > made.txt");
        assert_contains(&transcript, "✓ allowed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_bash_command_is_not_run_and_claude_reads_why() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo made > made.txt"),
            {"text": "I did not write it."}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(ask_me(&project, "Write made.txt"))
            .expect("spawn");
        let approval = next_request(&mut events, id).await;
        sup.answer(
            id,
            &approval.request_id,
            Decision::Deny {
                message: Some("Not in this project, please.".into()),
            },
        )
        .expect("deny");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(
            done.status,
            TaskStatus::Completed,
            "a denial is not a failure"
        );
        assert!(!project.join("made.txt").exists());
        // The model's next call carries the denial as the tool's error.
        let calls = cli.mock.model_calls();
        let last = calls.last().expect("a model call").to_string();
        assert_contains(&last, "Not in this project, please.");
        assert!(
            entries(&sup, id).iter().any(|e| matches!(e,
                Entry::Answer { outcome: ApprovalOutcome::Denied, message: Some(m), .. }
                    if m == "Not in this project, please.")),
            "the answer is in the transcript"
        );
        assert_contains(
            &transcript_file(&done),
            "✗ denied: Not in this project, please.",
        );
        assert_eq!(done.result.expect("result").denied_tools, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_always_answers_claudes_next_matching_request() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo made > a.txt"),
            bash("echo made > b.txt"),
            {"text": "both written"}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(ask_me(&project, "Write two files"))
            .expect("spawn");
        let approval = next_request(&mut events, id).await;
        sup.answer(id, &approval.request_id, Decision::AllowAlways)
            .expect("always");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(project.join("a.txt").exists() && project.join("b.txt").exists());
        // claude asked twice (its own rule does not cover the redirect); Tasktray answered the
        // second itself.
        let log = sup.log_text(id).expect("log");
        assert_eq!(
            log.matches("\"subtype\":\"can_use_tool\"").count(),
            2,
            "{log}"
        );
        assert_eq!(
            log.matches("\"outcome\":\"allowedByRule\"").count(),
            1,
            "{log}"
        );
    })
    .await;
}

/// The pid of the Bash tool's `sleep 300`, once it runs.
async fn sleeper(sup: &Supervisor, id: TaskId) -> i32 {
    let find = || {
        task_processes(sup, id)
            .into_iter()
            .find(|&pid| cmdline(pid) == ["sleep", "300"])
    };
    assert!(
        wait_until_async(STEP, || find().is_some()).await,
        "the Bash tool never started"
    );
    find().expect("the sleep pid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_turn_ends_the_tool_and_the_session_goes_on_with_a_new_message() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo started; sleep 300"),
            {"text": "Picked up the new instruction."}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(ask_me(&project, "Run the long thing"))
            .expect("spawn");
        let sleep_pid = sleeper(&sup, id).await;
        sup.interrupt(id).expect("interrupt");
        let status = next_event(&mut events, |e| match e {
            Event::StatusChanged { task, status } if *task == id => Some(*status),
            _ => None,
        })
        .await;
        assert_eq!(
            status,
            TaskStatus::Waiting,
            "it waits for the next instruction"
        );
        assert!(
            wait_until_async(STEP, || !tasktray_test_support::alive(sleep_pid)).await,
            "the tool's sleep survived the interrupt"
        );
        assert!(
            sup.get(id).expect("task").status.is_active(),
            "the agent stays"
        );

        sup.send(id, "Leave it and summarise instead.")
            .expect("send");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(
            done.status,
            TaskStatus::Completed,
            "{:?}",
            sup.output_text(id)
        );
        assert_eq!(
            done.result.expect("result").text,
            "Picked up the new instruction."
        );
        // One session: the last model call carries the first prompt and the new message.
        let calls = cli.mock.model_calls();
        let texts = message_texts(calls.last().expect("a call"), "user").join("\n");
        assert_contains(&texts, "Run the long thing");
        assert_contains(&texts, "Leave it and summarise instead.");
        assert_eq!(cli.mock.sessions().len(), 1);
        assert!(task_processes(&sup, id).is_empty());
    })
    .await;
}

/// `taskctl run` with the given approval flags, as a script runs it (no terminal).
async fn taskctl_run(cli: &RealCli, project: &std::path::Path, flags: &[&str]) -> (i32, String) {
    let mut cmd = tokio::process::Command::from(cli.taskctl());
    cmd.arg("run")
        .args(flags)
        .arg("--dir")
        .arg(project)
        .arg("Write made.txt")
        .kill_on_drop(true);
    let out = cmd.output().await.expect("run taskctl");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taskctl_answers_with_approve_and_never_hangs_without_a_terminal() {
    bounded(async {
        let script: Value = json!({"turns": [
            bash("echo made > made.txt"),
            {"text": "over"}
        ]});
        let cli = RealCli::new(script);
        let allowed = cli.project("allowed");
        let (code, text) = taskctl_run(&cli, &allowed, &["--approve", "allow"]).await;
        assert_eq!(code, 0, "{text}");
        assert!(allowed.join("made.txt").exists(), "{text}");
        assert_contains(&text, "✓ allowed");

        let denied = cli.project("denied");
        let (code, text) = taskctl_run(&cli, &denied, &["--approve", "deny"]).await;
        assert_eq!(code, 0, "{text}");
        assert!(!denied.join("made.txt").exists());
        assert_contains(&text, "✗ denied: Denied by taskctl --approve deny.");

        // No terminal, no --approve: denied at once, with the reason in the transcript.
        let script_run = cli.project("script");
        let (code, text) = taskctl_run(&cli, &script_run, &[]).await;
        assert_eq!(code, 0, "{text}");
        assert!(!script_run.join("made.txt").exists());
        assert_contains(&text, "taskctl has no terminal to ask on");
    })
    .await;
}

/// Claude Code folds a message sent while a tool runs into the running turn (one result for
/// both); Tasktray knows from the message's replay that nothing is left, and ends the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_a_tool_runs_joins_the_turn_and_the_task_still_ends() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo started; sleep 300"),
            {"text": "Done, with the extra step."}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let id = sup
            .spawn(ask_me(&project, "Run the long thing"))
            .expect("spawn");
        let sleep_pid = sleeper(&sup, id).await;
        sup.send(id, "Also mention the weather.").expect("send");
        // The message waits for the tool; end the tool so the turn can go on.
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(sleep_pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("end the tool");
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(
            done.status,
            TaskStatus::Completed,
            "{:?}",
            sup.output_text(id)
        );
        let log = sup.log_text(id).expect("log");
        assert_eq!(
            log.matches("\"type\":\"result\"").count(),
            1,
            "one turn: {log}"
        );
        let calls = cli.mock.model_calls();
        let texts = message_texts(calls.last().expect("a call"), "user").join("\n");
        assert_contains(&texts, "Also mention the weather.");
    })
    .await;
}
