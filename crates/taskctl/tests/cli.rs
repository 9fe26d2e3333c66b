//! `taskctl` as a user runs it: real processes, the fake agent, a temp data dir.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use supervisor::{AgentSearch, ShimProgram, Supervisor, SupervisorConfig, TaskId, TaskStatus};
use tasktray_test_support::{
    alive, output_of, processes_with_env, wait_child, wait_until, workspace_bin, Sandbox,
    TEST_TIMEOUT,
};

fn taskctl(sandbox: &Sandbox) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskctl"));
    cmd.env("TASKTRAY_DATA_DIR", sandbox.data_dir())
        .env("TASKTRAY_AGENT", workspace_bin("fake-claude"))
        .env("HOME", sandbox.path())
        // No app answers there: `run` runs the task in this process.
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        // Tests run as root in CI, where the agent refuses bypassPermissions without it.
        .env("IS_SANDBOX", "1")
        .env_remove("XDG_DATA_HOME")
        .stdin(Stdio::null());
    cmd
}

/// A second host on the sandbox's data dir, as the app would be next to `taskctl`.
fn another_host(sandbox: &Sandbox) -> (tokio::runtime::Runtime, Supervisor) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = SupervisorConfig::new(
        sandbox.data_dir(),
        AgentSearch {
            explicit: Some(workspace_bin("fake-claude")),
            ..AgentSearch::default()
        },
        ShimProgram {
            program: env!("CARGO_BIN_EXE_taskctl").into(),
        },
    );
    let sup = Supervisor::start(config, runtime.handle().clone()).expect("start");
    (runtime, sup)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_prints_the_live_transcript_and_records_the_task() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let out = output_of(
        taskctl(&sandbox)
            .args(["run", "--name", "demo", "--dir"])
            .arg(&project)
            .arg("fake: say Looking around; tool echo tool-output; say All done"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "Looking around",
        "→ Bash: echo tool-output",
        "tool-output",
        "All done",
        "✓ done",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    assert!(
        text(&out.stderr).contains("task 1 completed"),
        "{}",
        text(&out.stderr)
    );

    let list = output_of(taskctl(&sandbox).arg("list"));
    let listed = text(&list.stdout);
    assert!(
        listed.contains("completed") && listed.contains("demo"),
        "{listed}"
    );

    let show = output_of(taskctl(&sandbox).args(["show", "1", "--json"]));
    let record: serde_json::Value =
        serde_json::from_slice(&show.stdout).expect("show --json is JSON");
    assert_eq!(record["status"], "completed");
    assert_eq!(record["name"], "demo");

    let logs = output_of(taskctl(&sandbox).args(["logs", "1", "--tail", "1"]));
    let tail = text(&logs.stdout);
    assert_eq!(tail.lines().count(), 1, "{tail}");
    assert!(tail.starts_with("✓ done ("), "{tail}");
    let raw = output_of(taskctl(&sandbox).args(["logs", "1", "--raw"]));
    assert!(
        text(&raw.stdout).lines().all(|l| l.starts_with('{')),
        "raw lines are the JSON"
    );
    assert!(project.join(".claude-tasks/task-1-output.md").is_file());
}

#[test]
fn a_local_run_uses_the_saved_settings_and_the_command_line_overrides_them() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let mut settings = supervisor::Settings {
        // Found only through Settings: TASKTRAY_AGENT is unset below.
        agent_path: Some(workspace_bin("fake-claude").display().to_string()),
        default_permission_mode: supervisor::PermissionMode::AcceptEdits,
        allowed_tools: "Read Grep".into(),
        ..supervisor::Settings::default()
    };
    std::fs::create_dir_all(sandbox.data_dir()).expect("data dir");
    settings
        .save(&supervisor::Settings::path(&sandbox.data_dir()))
        .expect("save settings");
    let run = |extra: &[&str]| {
        output_of(
            taskctl(&sandbox)
                .env_remove("TASKTRAY_AGENT")
                .args(["run", "--local", "--dir"])
                .arg(&project)
                .args(extra)
                .arg("fake: say with settings"),
        )
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("with settings"));
    let show = output_of(taskctl(&sandbox).args(["show", "1", "--json"]));
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
    assert_eq!(record["options"]["permission_mode"], "acceptEdits");
    assert_eq!(
        record["options"]["allowed_tools"],
        serde_json::json!(["Read", "Grep"])
    );

    let out = run(&["--permission-mode", "plan", "--format", "text"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let show = output_of(taskctl(&sandbox).args(["show", "2", "--json"]));
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
    assert_eq!(record["options"]["permission_mode"], "plan");
    assert_eq!(record["options"]["format"], "text");

    // A wrong path saved in Settings is what the error names.
    settings.agent_path = Some(sandbox.path().join("no-claude").display().to_string());
    settings
        .save(&supervisor::Settings::path(&sandbox.data_dir()))
        .expect("save settings");
    let out = run(&[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("no-claude"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn exit_codes_say_how_it_ended() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let failed = output_of(
        taskctl(&sandbox)
            .arg("run")
            .arg("--dir")
            .arg(&project)
            .arg("fake: result error API Error: 500"),
    );
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("API Error: 500"),
        "{}",
        text(&failed.stderr)
    );

    let missing = output_of(taskctl(&sandbox).args(["run", "--dir", "/no/such/folder", "x"]));
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("does not exist"),
        "{}",
        text(&missing.stderr)
    );

    let usage = output_of(taskctl(&sandbox).args(["run", "--format", "yaml", "x"]));
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        text(&usage.stderr).contains("unknown output format"),
        "{}",
        text(&usage.stderr)
    );

    let no_agent = output_of(
        taskctl(&sandbox)
            .env("TASKTRAY_AGENT", sandbox.path().join("nope"))
            .arg("run")
            .arg("--dir")
            .arg(&project)
            .arg("x"),
    );
    assert_eq!(no_agent.status.code(), Some(2));
    assert!(
        text(&no_agent.stderr).contains("Claude Code was not found"),
        "{}",
        text(&no_agent.stderr)
    );

    let bad_id = output_of(taskctl(&sandbox).args(["show", "abc"]));
    assert_eq!(bad_id.status.code(), Some(2));
    let unknown = output_of(taskctl(&sandbox).args(["show", "42"]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("no task 42"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn prompt_from_stdin_and_claudecode_is_not_passed_on() {
    let sandbox = Sandbox::new();
    let record = sandbox.path().join("record.jsonl");
    let mut cmd = taskctl(&sandbox);
    cmd.env("CLAUDECODE", "1")
        .env("FAKE_CLAUDE_RECORD", &record)
        .args(["run", "--format", "text", "--dir"])
        .arg(sandbox.project("p"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"-- a prompt\nfrom stdin")
            .expect("write prompt");
    }
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout)
        .expect("read");
    assert!(wait_child(&mut child, TEST_TIMEOUT).success());
    assert_eq!(stdout.trim(), "-- a prompt\nfrom stdin");
    let rec: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&record)
            .expect("record")
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("json");
    assert_eq!(rec["env_CLAUDECODE"], serde_json::Value::Null, "{rec}");
}

/// Starts `taskctl run` on a tool-child script and returns it with the tool's pid, read from
/// its live output.
fn start_with_tool_child(sandbox: &Sandbox, project: &Path) -> (std::process::Child, i32) {
    let mut child = taskctl(sandbox)
        .args(["run", "--grace", "0.5", "--raw", "--dir"])
        .arg(project)
        .arg("fake: tool-child; sleep 60")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn taskctl");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("tool-child pid ") {
                let digits: String = line[at + 15..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let _ = tx.send(digits.parse::<i32>().expect("pid"));
            }
        }
    });
    let pid = rx
        .recv_timeout(TEST_TIMEOUT)
        .expect("the tool child started");
    (child, pid)
}

#[test]
fn ctrl_c_and_sigterm_cancel_the_whole_tree() {
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let sandbox = Sandbox::new();
        let (mut child, tool) = start_with_tool_child(&sandbox, &sandbox.project("p"));
        assert!(alive(tool));
        kill(Pid::from_raw(child.id() as i32), signal).expect("signal taskctl");
        let status = wait_child(&mut child, TEST_TIMEOUT);
        assert_eq!(status.code(), Some(130), "{signal:?}");
        assert!(
            !alive(tool),
            "{signal:?}: the SIGTERM-ignoring tool survived"
        );
        let history = supervisor::History::open(&sandbox.data_dir()).expect("history");
        assert_eq!(
            history.load(TaskId(1)).expect("task").status,
            TaskStatus::Cancelled
        );
    }
}

#[test]
fn a_killed_host_takes_its_tree_down_and_the_next_start_marks_the_task_interrupted() {
    let sandbox = Sandbox::new();
    let (mut child, tool) = start_with_tool_child(&sandbox, &sandbox.project("p"));
    // `taskctl list` works while another process runs a task.
    let list = output_of(taskctl(&sandbox).args(["list", "--running"]));
    assert!(
        text(&list.stdout).contains("running"),
        "{}",
        text(&list.stdout)
    );

    child.kill().expect("SIGKILL taskctl");
    let _ = child.wait();
    // The lifeline: the shim sees EOF and stops the tree by itself.
    assert!(
        wait_until(Duration::from_secs(10), || !alive(tool)),
        "tool {tool} survived its host"
    );

    let (_runtime, sup) = another_host(&sandbox);
    assert_eq!(
        sup.get(TaskId(1)).expect("task").status,
        TaskStatus::Interrupted
    );
    let marker = sup.marker(TaskId(1));
    assert!(processes_with_env(supervisor::MARKER_ENV, marker.to_str().expect("ascii")).is_empty());
}

#[test]
fn two_processes_racing_for_one_project_get_exactly_one_task() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    // The winner's agent waits at a barrier until every loser has been refused.
    let barrier = sandbox.path().join("go");
    let prompt = format!("fake: wait-file {}", barrier.display());
    let racers: Vec<_> = (0..4)
        .map(|_| {
            taskctl(&sandbox)
                .args(["run", "--dir"])
                .arg(&project)
                .arg(&prompt)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    // Three are refused at once; only then may the one that runs go on.
    let mut racers = racers;
    let mut refused = 0;
    assert!(
        wait_until(TEST_TIMEOUT, || {
            refused = 0;
            for racer in racers.iter_mut() {
                refused += usize::from(matches!(racer.try_wait(), Ok(Some(_))));
            }
            refused == 3
        }),
        "{refused} of the racers ended while one held the project"
    );
    std::fs::write(&barrier, b"go").expect("open the barrier");
    let mut codes = Vec::new();
    for mut racer in racers {
        let status = wait_child(&mut racer, TEST_TIMEOUT);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut racer.stderr.take().expect("stderr"), &mut err)
            .expect("read");
        if status.code() == Some(2) {
            assert!(err.contains("already running"), "{err}");
        }
        codes.push(status.code());
    }
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Some(2)).count(),
        3,
        "{codes:?}"
    );
}

#[test]
fn json_mode_prints_one_event_per_line() {
    let sandbox = Sandbox::new();
    let out = output_of(
        taskctl(&sandbox)
            .args(["run", "--json", "--dir"])
            .arg(sandbox.project("p"))
            .arg("fake: say hi"),
    );
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        events.first().map(|e| e["type"].clone()),
        Some("spawned".into())
    );
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some("completed".into())
    );
    assert!(events
        .iter()
        .any(|e| e["type"] == "output"
            && e["line"]["text"].as_str().is_some_and(|t| t.contains("hi"))));
}

#[test]
fn another_host_sees_a_running_task_without_interrupting_it_and_follows_it_to_its_end() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let barrier = sandbox.path().join("go");
    let mut child = taskctl(&sandbox)
        .args(["run", "--raw", "--dir"])
        .arg(&project)
        .arg(format!(
            "fake: say started; wait-file {}; say finished",
            barrier.display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn taskctl");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    while !rx
        .recv_timeout(TEST_TIMEOUT)
        .expect("output")
        .contains("started")
    {}

    let (_runtime, sup) = another_host(&sandbox);
    assert_eq!(
        sup.get(TaskId(1)).expect("listed").status,
        TaskStatus::Running,
        "not interrupted"
    );
    let busy = sup.spawn(supervisor::SpawnRequest {
        name: String::new(),
        prompt: "x".into(),
        project_dir: project.clone(),
        options: Default::default(),
        follow_up_of: None,
        queue: false,
    });
    assert!(
        matches!(
            busy,
            Err(supervisor::Error::ProjectBusy {
                task_id: TaskId(1),
                ..
            })
        ),
        "{busy:?}"
    );

    std::fs::write(&barrier, b"go").expect("open the barrier");
    assert!(wait_child(&mut child, TEST_TIMEOUT).success());
    // Followed live: no refresh needed for the end and the last line.
    assert!(wait_until(TEST_TIMEOUT, || sup
        .get(TaskId(1))
        .is_some_and(|t| t.status == TaskStatus::Completed)));
    assert!(sup
        .output_text(TaskId(1))
        .expect("output")
        .contains("finished"));
}

#[test]
fn another_host_follows_a_taskctl_task_live_cancels_it_and_sees_its_owner_die() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    // The other host (the app) starts first: the task is one it has never seen.
    let (runtime, sup) = another_host(&sandbox);
    let mut events = sup.subscribe();
    let start = |prompt: &str| {
        taskctl(&sandbox)
            .args(["run", "--local", "--dir"])
            .arg(&project)
            .arg(prompt)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn taskctl")
    };
    let mut child = start("fake: say started; sleep 1; say more; sleep 30");
    let id = TaskId(1);
    assert!(
        wait_until(TEST_TIMEOUT, || sup
            .output_text(id)
            .is_ok_and(|t| t.contains("started"))),
        "the task and its output show up live"
    );
    let said = runtime.block_on(tasktray_test_support::next_broadcast(
        &mut events,
        TEST_TIMEOUT,
        |e| match e {
            supervisor::Event::Output { task, lines } if *task == id => lines
                .iter()
                .find(|l| l.text.contains("more"))
                .map(|l| l.seq),
            _ => None,
        },
    ));
    // Numbered as the owner numbered it: line `seq` of the log.
    let log = sup.log_text(id).expect("log");
    let line = log
        .lines()
        .nth(said as usize)
        .expect("the line is in the log");
    assert!(line.contains("more"), "{line}");
    // Only its owner can talk to it: a clear error, not "not running".
    let refused = sup.send(id, "hello").expect_err("owned by taskctl");
    assert!(refused.to_string().contains("taskctl, pid"), "{refused}");
    // Cancelling asks taskctl, which cancels as on Ctrl-C.
    sup.request_cancel(id).expect("cancel through taskctl");
    assert_eq!(wait_child(&mut child, TEST_TIMEOUT).code(), Some(130));
    assert!(wait_until(TEST_TIMEOUT, || sup
        .get(id)
        .is_some_and(|t| t.status == TaskStatus::Cancelled)));
    assert!(processes_with_env(supervisor::MARKER_ENV, &marker(&sup, id)).is_empty());

    // An owner that dies leaves an interrupted task, nothing running.
    let mut child = start("fake: say again; sleep 30");
    let id = TaskId(2);
    assert!(wait_until(TEST_TIMEOUT, || sup
        .output_text(id)
        .is_ok_and(|t| t.contains("again"))));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("SIGKILL taskctl");
    let _ = wait_child(&mut child, TEST_TIMEOUT);
    assert!(wait_until(TEST_TIMEOUT, || sup
        .get(id)
        .is_some_and(|t| t.status == TaskStatus::Interrupted)));
    assert!(wait_until(TEST_TIMEOUT, || processes_with_env(
        supervisor::MARKER_ENV,
        &marker(&sup, id)
    )
    .is_empty()));
}

fn marker(sup: &Supervisor, id: TaskId) -> String {
    sup.marker(id).to_str().expect("ASCII").to_owned()
}

#[test]
fn a_closed_stderr_and_a_vanished_data_dir_neither_crash_nor_hang_a_run() {
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let mut child = taskctl(&sandbox)
        .args(["run", "--dir"])
        .arg(&project)
        .arg("fake: say started; sleep 0.5; say done")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn taskctl");
    // Nobody reads stderr any more: every warning taskctl prints now fails with EPIPE.
    drop(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    while !first.contains("started") {
        first.clear();
        assert!(
            stdout.read_line(&mut first).expect("read") > 0,
            "output ended early"
        );
    }
    // The history goes away under the running task: saving its end fails, loudly but safely.
    std::fs::remove_dir_all(sandbox.data_dir()).expect("remove the data dir");
    let status = wait_child(&mut child, TEST_TIMEOUT);
    assert_eq!(
        status.code(),
        Some(0),
        "the task completed and taskctl said so by its exit code"
    );
}

#[test]
fn requests_are_asked_on_stdin_and_answered_one_by_one() {
    use std::io::Write as _;
    let sandbox = Sandbox::new();
    let project = sandbox.project("p");
    let mut child = taskctl(&sandbox)
        .args(["run", "--approve", "ask", "--dir"])
        .arg(&project)
        .arg("fake: ask Bash echo a > a.txt; ask Bash echo b > b.txt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn taskctl");
    // A wrong answer is asked again; then yes to the first request, no to the second.
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"maybe\ny\nn\n")
        .expect("answers");
    let out = child.wait_with_output().expect("taskctl ends");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for needle in [
        "? task 1 asks to use Bash: echo a > a.txt",
        "Allow? [y]es / [n]o / [a]lways for this task",
        "Answer y, n or a.",
        "? task 1 asks to use Bash: echo b > b.txt",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert!(project.join("a.txt").exists(), "{stdout}");
    assert!(!project.join("b.txt").exists(), "{stdout}");
    assert!(
        stdout.contains("✓ allowed") && stdout.contains("✗ denied"),
        "{stdout}"
    );
}

#[test]
fn without_a_terminal_or_approve_requests_are_denied_at_once() {
    let sandbox = Sandbox::new();
    for (flags, reason) in [
        (&[][..], "taskctl has no terminal to ask on"),
        (
            &["--approve", "deny"][..],
            "Denied by taskctl --approve deny.",
        ),
    ] {
        let project = sandbox.project(if flags.is_empty() { "a" } else { "b" });
        let out = output_of(
            taskctl(&sandbox)
                .arg("run")
                .args(flags)
                .arg("--dir")
                .arg(&project)
                .arg("fake: ask Bash echo x > x.txt"),
        );
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(stdout.contains(reason), "missing {reason:?} in:\n{stdout}");
        assert!(!project.join("x.txt").exists());
    }
    let project = sandbox.project("c");
    let out = output_of(
        taskctl(&sandbox)
            .args(["run", "--approve", "allow", "--dir"])
            .arg(&project)
            .arg("fake: ask Bash echo x > x.txt"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(project.join("x.txt").exists());
}

#[test]
fn ctrl_c_while_a_question_is_open_cancels_the_task() {
    let sandbox = Sandbox::new();
    let mut child = taskctl(&sandbox)
        .args(["run", "--approve", "ask", "--dir"])
        .arg(sandbox.project("p"))
        .arg("fake: ask Bash echo x > x.txt")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn taskctl");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (asked_tx, asked) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("asks to use Bash") {
                let _ = asked_tx.send(());
            }
        }
    });
    asked
        .recv_timeout(TEST_TIMEOUT)
        .expect("the question is asked");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).expect("Ctrl-C");
    let status = wait_child(&mut child, TEST_TIMEOUT);
    assert_eq!(status.code(), Some(130));
    let history = supervisor::History::open(&sandbox.data_dir()).expect("history");
    assert_eq!(
        history.load(TaskId(1)).expect("task 1").status,
        TaskStatus::Cancelled
    );
}

#[test]
fn a_closed_stdout_ends_every_reading_command_quietly() {
    let sandbox = Sandbox::new();
    let out = output_of(
        taskctl(&sandbox)
            .args(["run", "--dir"])
            .arg(sandbox.project("p"))
            .arg("fake: say one"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for verb in [
        &["list"][..],
        &["list", "--json"],
        &["show", "1"],
        &["show", "1", "--json"],
        &["logs", "1"],
    ] {
        // A pipe whose reader is gone before the first write: every write fails (`| head`).
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut child = taskctl(&sandbox)
            .args(verb)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskctl");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("read stderr");
        let status = wait_child(&mut child, TEST_TIMEOUT);
        assert_eq!(status.code(), Some(0), "taskctl {verb:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "taskctl {verb:?}: {stderr}");
    }
}

#[test]
fn list_pages_the_history_and_searches_it() {
    let sandbox = Sandbox::new();
    {
        let (runtime, sup) = another_host(&sandbox);
        for n in 1..=25 {
            let topic = if n % 10 == 0 { "Zeppelin" } else { "routine" };
            let id = sup
                .spawn(supervisor::SpawnRequest {
                    name: format!("{topic} job {n}"),
                    prompt: "fake: say hi".into(),
                    project_dir: sandbox.project(&format!("p{n}")),
                    options: Default::default(),
                    follow_up_of: None,
                    queue: false,
                })
                .expect("spawn");
            runtime.block_on(sup.wait(id)).expect("wait");
        }
        runtime.block_on(sup.shutdown(Duration::from_secs(5)));
    }

    let limited = output_of(taskctl(&sandbox).args(["list", "--limit", "20"]));
    let rows = text(&limited.stdout);
    assert_eq!(rows.lines().count(), 21, "a header and 20 rows:\n{rows}");
    assert!(
        rows.lines().nth(1).is_some_and(|l| l.contains("job 25")),
        "{rows}"
    );
    assert!(
        text(&limited.stderr).contains("20 of 25 tasks; --limit N shows more"),
        "{}",
        text(&limited.stderr)
    );

    let found = output_of(taskctl(&sandbox).args(["list", "--search", "zEPPELIN"]));
    let rows = text(&found.stdout);
    let names: Vec<&str> = rows
        .lines()
        .skip(1)
        .filter_map(|l| l.split("  ").last())
        .collect();
    assert_eq!(names, ["Zeppelin job 20", "Zeppelin job 10"], "{rows}");
    let json = output_of(taskctl(&sandbox).args(["list", "-s", "zeppelin 20", "--json"]));
    let tasks: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
    assert_eq!(tasks[0]["name"], "Zeppelin job 20");

    let zero = output_of(taskctl(&sandbox).args(["list", "--limit", "0"]));
    assert_eq!(zero.status.code(), Some(2));
    assert!(text(&zero.stderr).contains("--limit must be at least 1"));

    let none = output_of(taskctl(&sandbox).args(["list", "--search", "airship"]));
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(
        text(&none.stdout).trim(),
        "No task matches \u{201c}airship\u{201d}."
    );
}
