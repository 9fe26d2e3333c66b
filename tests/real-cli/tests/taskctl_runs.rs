//! `taskctl` as a user runs it, with the real Claude Code CLI (`TASKTRAY_AGENT`) against the
//! mock Messages API: a real tool run, an API error, a follow-up, and Ctrl-C.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use tasktray_real_cli::{bash, cmdline, json, message_texts, RealCli, GRACE};
use tasktray_test_support::{alive, bounded, processes_with_env, wait_until_async};

/// How long one step of a real run may take (the outer bound is `bounded`).
const STEP: Duration = Duration::from_secs(30);

/// Runs `taskctl args...` to its end; the child is killed if the test times out.
async fn taskctl(cli: &RealCli, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::from(cli.taskctl());
    cmd.args(args).kill_on_drop(true);
    cmd.output().await.expect("run taskctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "missing {needle:?} in:\n{haystack}"
    );
}

async fn show(cli: &RealCli, id: u64) -> Value {
    let out = taskctl(cli, &["show", &id.to_string(), "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("show --json is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_bash_tool_writes_the_file_and_records_the_task() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo from-taskctl > made.txt"),
            {"text": "made.txt is written."}
        ]}));
        let project = cli.project("p");
        let dir = project.to_str().expect("UTF-8 path");
        let out = taskctl(
            &cli,
            &[
                "run",
                "--approve",
                "allow",
                "--name",
                "real",
                "--dir",
                dir,
                "Write made.txt",
            ],
        )
        .await;
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            text(&out.stderr)
        );
        for needle in [
            "→ Bash: echo from-taskctl > made.txt",
            "made.txt is written.",
            "✓ done (",
        ] {
            assert_contains(&stdout, needle);
        }
        assert_contains(&text(&out.stderr), "task 1 completed");
        assert_eq!(
            std::fs::read_to_string(project.join("made.txt")).expect("made.txt"),
            "from-taskctl\n"
        );

        let record = show(&cli, 1).await;
        assert_eq!(record["status"], "completed");
        assert_eq!(record["name"], "real");
        assert_eq!(record["result"]["num_turns"], 2);
        assert!(record["session_id"].is_string(), "{record}");
        assert!(project.join(".claude-tasks/task-1-output.md").is_file());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_error_exits_1_with_claudes_message() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"error": {"status": 500, "message": "taskctl sees trouble"}}
        ]}));
        let project = cli.project("p");
        let dir = project.to_str().expect("UTF-8 path");
        let out = taskctl(&cli, &["run", "--dir", dir, "Do something"]).await;
        assert_eq!(out.status.code(), Some(1));
        // The readable output and the final summary both carry claude's message.
        assert_contains(&text(&out.stdout), "API Error: 500 taskctl sees trouble");
        assert_contains(&text(&out.stderr), "API Error: 500 taskctl sees trouble");
        assert_eq!(show(&cli, 1).await["status"], "failed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_continues_the_session() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"text": "First answer: 7."},
            {"text": "Second answer: 8."}
        ]}));
        let project = cli.project("p");
        let dir = project.to_str().expect("UTF-8 path");
        let first = taskctl(&cli, &["run", "--keep-session", "--dir", dir, "Remember 7"]).await;
        assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
        let session = show(&cli, 1).await["session_id"].clone();
        assert!(session.is_string());

        let second = taskctl(&cli, &["follow-up", "1", "Add one"]).await;
        assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
        assert_contains(&text(&second.stdout), "Second answer: 8.");
        let record = show(&cli, 2).await;
        assert_eq!(record["status"], "completed");
        assert_eq!(record["follow_up_of"], 1);
        assert_eq!(record["options"]["resume"], session);

        let calls = cli.mock.model_calls();
        assert_eq!(calls.len(), 2, "{calls:#?}");
        let users = message_texts(&calls[1], "user").join("\n");
        assert_contains(&users, "Remember 7");
        assert_contains(&users, "Add one");
        assert_eq!(message_texts(&calls[1], "assistant"), ["First answer: 7."]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_run_and_its_whole_tree() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo started > started.txt; sleep 300"),
            {"text": "never reached"}
        ]}));
        let project = cli.project("p");
        let grace = GRACE.as_secs_f64().to_string();
        let mut cmd = tokio::process::Command::from(cli.taskctl());
        cmd.args([
            "run",
            "--approve",
            "allow",
            "--raw",
            "--grace",
            &grace,
            "--dir",
        ])
        .arg(&project)
        .arg("Run a long command")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn taskctl");
        // Every process of the run inherits taskctl's environment, data dir included.
        let data_dir = cli.sandbox.data_dir();
        let data_dir = data_dir.to_str().expect("UTF-8 path");
        let tree = || processes_with_env("TASKTRAY_DATA_DIR", data_dir);
        let sleeper = || {
            tree()
                .into_iter()
                .find(|&pid| cmdline(pid) == ["sleep", "300"])
        };
        assert!(
            wait_until_async(STEP, || sleeper().is_some()).await,
            "the Bash tool never started `sleep 300`"
        );
        assert!(project.join("started.txt").is_file());
        let sleep_pid = sleeper().expect("the sleep pid");

        let started = Instant::now();
        let pid = child.id().expect("taskctl's pid") as i32;
        kill(Pid::from_raw(pid), Signal::SIGINT).expect("Ctrl-C");
        let status = child.wait().await.expect("taskctl exits");
        let took = started.elapsed();
        eprintln!("Ctrl-C to exit took {took:?}");
        assert_eq!(status.code(), Some(130));
        assert!(took <= GRACE + Duration::from_secs(1), "took {took:?}");
        assert!(!alive(sleep_pid), "`sleep 300` ({sleep_pid}) survived");
        let left = tree();
        assert!(left.is_empty(), "processes left: {left:?}");
        assert_eq!(show(&cli, 1).await["status"], "cancelled");
    })
    .await;
}
