//! fake-claude run as a process, as the supervisor runs it.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{bit, eventually, fake, is_dead, proc_mask, run, Live};
use nix::sys::signal::Signal;
use nix::unistd::{getsid, Pid};
use serde_json::Value;

const STREAM: [&str; 4] = ["-p", "--output-format", "stream-json", "--verbose"];

fn stream(prompt: &str) -> Vec<&str> {
    let mut args = STREAM.to_vec();
    args.push(prompt);
    args
}

#[test]
fn text_mode_prints_only_the_final_answer() {
    let out = run(
        fake(&[
            "-p",
            "fake: say one; tool echo from-tool; stderr 2; say two",
        ]),
        None,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout_text(), "one\ntwo\n");
    assert_eq!(out.stderr_text(), "stderr line 1\nstderr line 2\n");
}

#[test]
fn echo_keeps_the_prompt_intact() {
    let prompt = "he said \"hi\"\n\tand 'bye' $HOME \\ ; fake: no";
    let out = run(fake(&["-p", prompt]), None);
    assert!(out.status.success());
    assert_eq!(out.stdout_text(), format!("{prompt}\n"));
}

#[test]
fn stream_json_lines_come_in_order() {
    let out = run(
        fake(&stream("fake: say a; tool echo tool-out; say b")),
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let lines = out.json_lines();
    let kinds: Vec<String> = lines
        .iter()
        .map(|line| {
            let content = &line["message"]["content"][0]["type"];
            format!("{}/{}", line["type"], content.as_str().unwrap_or("-"))
        })
        .collect();
    assert_eq!(
        kinds,
        [
            r#""system"/-"#,
            r#""assistant"/text"#,
            r#""assistant"/tool_use"#,
            r#""user"/tool_result"#,
            r#""assistant"/text"#,
            r#""result"/-"#
        ]
    );
    let session = &lines[0]["session_id"];
    assert_eq!(lines[0]["subtype"], "init");
    assert!(lines.iter().all(|line| &line["session_id"] == session));
    assert_eq!(
        lines[2]["message"]["content"][0]["input"]["command"],
        "echo tool-out"
    );
    assert_eq!(lines[3]["message"]["content"][0]["content"], "tool-out");
    let result = &lines[5];
    assert_eq!(result["is_error"], false);
    assert_eq!(result["result"], "a\nb");
    assert_eq!(result["num_turns"], 2);
}

#[test]
fn usage_errors_exit_1_on_stderr() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["-p", "--output-format", "stream-json", "x"],
            "requires --verbose",
        ),
        (&["-p", "--bogus", "x"], "unknown option '--bogus'"),
        (&["-p"], "Input must be provided"),
    ];
    for (args, message) in cases {
        let out = run(fake(args), None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(out.stderr_text().contains(message), "{args:?}: {out:?}");
    }
    let out = run(fake(&["--version"]), None);
    assert_eq!(out.stdout_text(), "2.1.332 (Claude Code)\n");
}

#[test]
fn prompt_from_stdin_arrives_intact() {
    let mut prompt = String::from("-starts with a dash\n\"quoted\"\n");
    while prompt.len() < 200 * 1024 {
        prompt.push_str("0123456789abcdef ");
    }
    let out = run(fake(&["-p"]), Some(prompt.clone().into_bytes()));
    assert!(out.status.success(), "{:?}", out.stderr_text());
    assert_eq!(out.stdout_text(), format!("{prompt}\n"));

    let out = run(
        fake(&["-p", "--output-format", "json"]),
        Some(prompt.clone().into_bytes()),
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(result["result"].as_str(), Some(prompt.as_str()));
}

#[test]
fn result_error_is_an_error_with_exit_1() {
    let out = run(fake(&stream("fake: say working; result error boom")), None);
    assert_eq!(out.status.code(), Some(1));
    let lines = out.json_lines();
    let last = lines.last().expect("a result line");
    assert_eq!(
        (
            &last["type"],
            &last["subtype"],
            &last["is_error"],
            &last["result"]
        ),
        (
            &Value::from("result"),
            &Value::from("success"),
            &Value::from(true),
            &Value::from("boom")
        )
    );

    let out = run(fake(&["-p", "fake: result error boom"]), None);
    assert_eq!(
        (out.status.code(), out.stdout_text()),
        (Some(1), "boom\n".into())
    );

    let out = run(fake(&stream("fake: result error-subtype bad")), None);
    let lines = out.json_lines();
    assert_eq!(
        lines.last().expect("result")["subtype"],
        "error_during_execution"
    );
}

#[test]
fn unknown_directive_is_an_error_result() {
    let out = run(fake(&stream("fake: say fine; frobnicate")), None);
    assert_eq!(out.status.code(), Some(1));
    let lines = out.json_lines();
    assert_eq!(lines.len(), 2, "init and result, nothing run");
    assert_eq!(lines[1]["is_error"], true);
    assert!(lines[1]["result"]
        .as_str()
        .is_some_and(|r| r.contains("unknown directive `frobnicate`")));
}

#[test]
fn flood_writes_exact_lines() {
    let out = run(fake(&["-p", "fake: flood 1000 10; exit 0"]), None);
    assert!(out.status.success());
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1000);
    assert!(lines.iter().all(|line| line.len() == 10));
    assert_eq!((lines[0], lines[999]), ("000 xxxxxx", "999 xxxxxx"));
}

#[test]
fn raw_bytes_come_through() {
    let out = run(
        fake(&["-p", "fake: invalid-utf8; huge 100000; exit 3"]),
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    let (first, rest) = out.stdout.split_at(17);
    assert_eq!(first, b"ok \xff\xfe bad \xc3\x28 end\n");
    assert_eq!(rest.len(), 100_001);
    assert!(rest[..100_000].iter().all(|&b| b == b'x'));
}

#[test]
fn resume_reuses_the_session() {
    let out = run(
        fake(&["-p", "--output-format", "json", "--resume", "s-1", "hi"]),
        None,
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(result["session_id"], "s-1");
    assert_eq!(result["result"], "resumed s-1: hi");
}

#[test]
fn crash_dies_by_the_signal() {
    let out = run(fake(&["-p", "fake: crash SEGV"]), None);
    assert_eq!(out.status.signal(), Some(Signal::SIGSEGV as i32));
    assert!(out.stdout.is_empty());
}

#[test]
fn sigint_writes_an_error_result_and_exits_0() {
    let mut live = Live::start(fake(&stream("fake: say ready; sleep 60")));
    live.line_containing("ready");
    live.signal(Signal::SIGINT);
    let rest = live.rest();
    let last: Value = serde_json::from_str(rest.last().expect("a result line")).expect("JSON");
    assert_eq!(last["type"], "result");
    assert_eq!(last["is_error"], true);
    assert_eq!(last["result"], "Request was aborted.");
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
}

#[test]
fn sigterm_kills_unless_trapped() {
    let mut live = Live::start(fake(&stream("fake: say ready; wait-stdin; say survived")));
    live.line_containing("ready");
    live.signal(Signal::SIGTERM);
    let status = common::wait(&mut live.child);
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));

    let mut live = Live::start(fake(&stream(
        "fake: trap-term; say ready; wait-stdin; say survived",
    )));
    live.line_containing("ready");
    let pid = live.pid().as_raw();
    live.signal(Signal::SIGTERM);
    // Once it is no longer pending, the signal thread has taken (and dropped) it.
    eventually("SIGTERM to be taken", || {
        proc_mask(pid, "ShdPnd").is_some_and(|pending| pending & bit(Signal::SIGTERM) == 0)
    });
    live.close_stdin();
    live.line_containing("survived");
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
}

#[test]
fn tool_child_ignores_sigterm_in_its_own_session() {
    let mut live = Live::start(fake(&stream("fake: tool-child; sleep 60")));
    let line = live.line_containing("tool-child pid");
    let pid: i32 = line
        .split("tool-child pid ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("a pid");
    live.also_kill.push(pid);
    let child_sid = getsid(Some(Pid::from_raw(pid))).expect("tool child alive");
    assert_eq!(child_sid.as_raw(), pid, "leads its own session");
    assert_ne!(getsid(Some(live.pid())).expect("fake alive"), child_sid);
    nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM).expect("signal the tool child");
    // Blocked, so it stays pending and the process lives on.
    eventually("SIGTERM pending in the tool child", || {
        proc_mask(pid, "ShdPnd").is_some_and(|pending| pending & bit(Signal::SIGTERM) != 0)
    });
    assert!(!is_dead(pid));
    nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill the tool child");
    eventually("the tool child to die", || is_dead(pid));
    live.signal(Signal::SIGKILL);
    common::wait(&mut live.child);
}

#[test]
fn daemon_outlives_the_agent() {
    let out = run(fake(&["-p", "fake: daemon"]), None);
    assert!(out.status.success());
    let text = out.stdout_text();
    let pid: i32 = text
        .trim()
        .strip_prefix("daemon pid ")
        .and_then(|n| n.parse().ok())
        .expect("daemon pid N");
    assert!(!is_dead(pid), "left running");
    assert_eq!(getsid(Some(Pid::from_raw(pid))).map(Pid::as_raw), Ok(pid));
    nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM).expect("signal the daemon");
    eventually("the daemon to die on SIGTERM", || is_dead(pid));
}

#[test]
fn record_tells_how_it_was_started() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let path = std::env::temp_dir().join(format!(
        "fake-claude-record-{}-{nanos}.jsonl",
        std::process::id()
    ));
    let mut cmd = fake(&["-p", "--model", "m"]);
    cmd.env("FAKE_CLAUDE_RECORD", &path)
        .env("TASKTRAY_TASK_ID", "7")
        .env("CLAUDECODE", "1");
    let out = run(cmd, Some(b"from stdin".to_vec()));
    let recorded = std::fs::read_to_string(&path).expect("record file");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    let record: Value = serde_json::from_str(recorded.trim_end()).expect("one JSON line");
    let argv = record["argv"].as_array().expect("argv is an array");
    assert_eq!(argv[1..], [Value::from("-p"), "--model".into(), "m".into()]);
    assert_eq!(record["prompt"], "from stdin");
    assert_eq!(record["prompt_from_stdin"], true);
    assert_eq!(record["stdin_is_pipe"], true);
    assert_eq!(record["env_CLAUDECODE"], "1");
    assert_eq!(record["env_TASKTRAY"]["TASKTRAY_TASK_ID"], "7");
    assert!(record["pid"].is_u64());
}
