//! fake-claude in two-way mode (`--input-format stream-json`): turns, interrupts, steering and
//! the control protocol, driven as a host drives it.

mod common;

use std::time::{Duration, Instant};

use common::{group_alive, is_dead, run, scratch_dir, two_way, Live};
use serde_json::{json, Value};

fn is_type(line: &Value, kind: &str) -> bool {
    line["type"] == kind
}

fn is_result(line: &Value) -> bool {
    is_type(line, "result")
}

fn says(line: &Value, text: &str) -> bool {
    is_type(line, "assistant") && line["message"]["content"][0]["text"] == text
}

fn interrupt(id: &str) -> Value {
    json!({"type": "control_request", "request_id": id, "request": {"subtype": "interrupt"}})
}

#[test]
fn initialize_is_answered() {
    let mut live = Live::start(two_way(&["--permission-mode", "acceptEdits"]));
    live.send(&json!({"type": "control_request", "request_id": "init-1",
        "request": {"subtype": "initialize", "hooks": null}}));
    let answer = live.next_json().expect("an answer");
    assert_eq!(answer["type"], "control_response");
    let response = &answer["response"];
    assert_eq!(response["subtype"], "success");
    assert_eq!(response["request_id"], "init-1");
    assert_eq!(response["response"]["claude_code_version"], "2.1.332");
    assert_eq!(
        response["response"]["current_permission_mode"],
        "acceptEdits"
    );
    assert_eq!(response["response"]["pid"], live.child.id());
    live.close_stdin();
    assert!(live.rest().is_empty(), "no turn without a user message");
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
}

#[test]
fn each_message_is_a_turn_of_one_session_until_eof() {
    let mut live = Live::start(two_way(&[]));
    let mut seen = Vec::new();
    live.user("hello");
    let init = live.until(&mut seen, "init", |l| l["subtype"] == "init");
    let first = live.until(&mut seen, "a result", is_result);
    assert_eq!(
        (&first["result"], &first["result_index"]),
        (&json!("hello"), &json!(0))
    );
    live.send(&json!({"type": "user", "message": {"role": "user",
        "content": [{"type": "text", "text": "in"}, {"type": "text", "text": "blocks"}]}}));
    live.until(&mut seen, "a second init", |l| l["subtype"] == "init");
    let second = live.until(&mut seen, "a second result", is_result);
    assert_eq!(second["result"], "in\nblocks");
    assert_eq!(second["result_index"], 1);
    assert_eq!(second["session_id"], init["session_id"]);
    assert_eq!(first["session_id"], init["session_id"]);
    live.close_stdin();
    assert!(live.rest().is_empty());
    assert_eq!(common::wait(&mut live.child).code(), Some(0));

    // The exit code follows the last result.
    let mut live = Live::start(two_way(&[]));
    live.user("fake: result error boom");
    let result = live.until(&mut Vec::new(), "a result", is_result);
    assert_eq!(result["is_error"], true);
    live.close_stdin();
    assert_eq!(common::wait(&mut live.child).code(), Some(1));
}

#[test]
fn an_interrupt_stops_a_running_tool_and_the_session_goes_on() {
    let dir = scratch_dir("interrupt");
    let mut cmd = two_way(&[]);
    cmd.current_dir(&dir);
    let mut live = Live::start(cmd);
    let mut seen = Vec::new();
    live.user("fake: tool echo $$ > tool.pid\\; echo started\\; sleep 30");
    live.until(&mut seen, "the tool call", |l| {
        l["message"]["content"][0]["type"] == "tool_use"
    });
    let pid_file = dir.join("tool.pid");
    let mut pid = 0;
    common::eventually("the tool to start", || {
        pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pid > 0
    });
    live.also_kill.push(pid);

    let sent = Instant::now();
    live.send(&interrupt("int-1"));
    let ack = live.until(&mut seen, "the interrupt's answer", |l| {
        is_type(l, "control_response")
    });
    assert_eq!(ack["response"]["request_id"], "int-1");
    assert_eq!(ack["response"]["response"], json!({"still_queued": []}));
    let stopped = live.until(&mut seen, "the tool's result", |l| is_type(l, "user"));
    let block = &stopped["message"]["content"][0];
    assert_eq!(block["is_error"], true);
    assert!(block["content"]
        .as_str()
        .is_some_and(|c| c.contains("stopped while running")));
    let marker = live.next_json().expect("the interrupted marker");
    assert_eq!(
        marker["message"]["content"][0]["text"],
        "[Request interrupted by user for tool use]"
    );
    let result = live.next_json().expect("the result");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(result["subtype"], "error_during_execution");
    assert_eq!(result["is_error"], true);
    assert_eq!(result["terminal_reason"], "aborted_tools");
    assert!(result.get("result").is_none(), "{result}");
    assert!(is_dead(pid), "the tool's shell is gone");
    assert!(!group_alive(pid), "so is its sleep");

    // Idle: answered at once, nothing else.
    live.send(&interrupt("int-2"));
    let ack = live.next_json().expect("an answer");
    assert_eq!(ack["response"]["request_id"], "int-2");
    live.user("after the interrupt");
    let next = live.until(&mut seen, "the next result", is_result);
    assert_eq!(
        (&next["result"], &next["result_index"]),
        (&json!("after the interrupt"), &json!(1))
    );
    assert_eq!(next["session_id"], result["session_id"]);
    live.close_stdin();
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_interrupt_stops_a_sleep() {
    let mut live = Live::start(two_way(&[]));
    let mut seen = Vec::new();
    live.user("fake: say napping; sleep 30; say woke");
    live.until(&mut seen, "napping", |l| says(l, "napping"));
    live.send(&interrupt("int-1"));
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["subtype"], "error_during_execution");
    assert_eq!(result["terminal_reason"], "aborted_streaming");
    let marker = &seen[seen.len() - 2];
    assert_eq!(
        marker["message"]["content"][0]["text"],
        "[Request interrupted by user]"
    );
    assert!(!seen.iter().any(|l| says(l, "woke")));
    live.close_stdin();
    assert_eq!(
        common::wait(&mut live.child).code(),
        Some(1),
        "the last result was an error"
    );
}

#[test]
fn wait_message_takes_the_next_message_into_the_turn() {
    let mut live = Live::start(two_way(&["--replay-user-messages"]));
    let mut seen = Vec::new();
    live.user("fake: say waiting; wait-message; say after");
    live.until(&mut seen, "waiting", |l| says(l, "waiting"));
    live.user("steer left");
    let replay = live.until(&mut seen, "the replay", |l| l["isReplay"] == true);
    assert_eq!(replay["message"]["content"], "steer left");
    live.until(&mut seen, "got message", |l| {
        says(l, "got message: steer left")
    });
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["result"], "waiting\ngot message: steer left\nafter");
    live.close_stdin();
    assert!(live.rest().is_empty(), "one result for both messages");

    let mut live = Live::start(two_way(&[]));
    live.user("fake: wait-message");
    live.close_stdin();
    let result = live.until(&mut Vec::new(), "the result", is_result);
    assert_eq!(result["result"], "got message: none");
}

#[test]
fn a_message_sent_mid_turn_is_its_own_turn_afterwards() {
    let dir = scratch_dir("mid-turn");
    let mut cmd = two_way(&["--replay-user-messages"]);
    cmd.current_dir(&dir);
    let mut live = Live::start(cmd);
    let mut seen = Vec::new();
    live.user("fake: say busy; tool while [ ! -e go ]\\; do sleep 0.01\\; done");
    live.until(&mut seen, "busy", |l| says(l, "busy"));
    live.user("second");
    std::fs::write(dir.join("go"), "").expect("let the tool end");
    let first = live.until(&mut seen, "the first result", is_result);
    assert_eq!(
        (&first["result"], &first["result_index"]),
        (&json!("busy"), &json!(0))
    );
    let init = live.next_json().expect("the next turn's init");
    assert_eq!(init["subtype"], "init");
    let replay = live.next_json().expect("the replay");
    assert_eq!(
        (&replay["isReplay"], &replay["message"]["content"]),
        (&json!(true), &json!("second"))
    );
    let second = live.until(&mut seen, "the second result", is_result);
    assert_eq!(
        (&second["result"], &second["result_index"]),
        (&json!("second"), &json!(1))
    );
    let replays: Vec<&Value> = seen.iter().filter(|l| l["isReplay"] == true).collect();
    assert_eq!(replays.len(), 1, "the first prompt is replayed too");
    assert!(replays[0]["message"]["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("fake: say busy")));
    live.close_stdin();
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn control_requests_of_unknown_kinds_both_ways() {
    let mut live = Live::start(two_way(&[]));
    live.send(&json!({"type": "control_request", "request_id": "myst-1",
        "request": {"subtype": "mystery"}}));
    let answer = live.next_json().expect("an answer");
    assert_eq!(answer["response"]["subtype"], "error");
    assert_eq!(
        answer["response"]["error"],
        "Unsupported control request subtype: mystery"
    );
    assert_eq!(answer["response"]["error_code"], "unsupported_request");
    // Ignored: an unknown type, an answer to nothing, a scalar, a blank line.
    live.send(&json!({"type": "bogus_type"}));
    live.send(&json!({"type": "control_response",
        "response": {"subtype": "success", "request_id": "no-such-id", "response": {}}}));
    live.send_line("42");
    live.send_line("");

    let mut seen = Vec::new();
    live.user("fake: bad-control");
    let probe = live.until(&mut seen, "the probe", |l| is_type(l, "control_request"));
    assert_eq!(probe["request_id"], "fake-bad-1");
    assert_eq!(probe["request"]["subtype"], "no_such_thing");
    assert_eq!(live.next_json(), Some(json!({"type": "control_request"})));
    live.send(&json!({"type": "control_response", "response": {"subtype": "error",
        "request_id": "fake-bad-1", "error": "Unsupported control request subtype: no_such_thing"}}));
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(
        result["result"],
        "bad-control answered: error: Unsupported control request subtype: no_such_thing"
    );
    live.close_stdin();
    assert_eq!(common::wait(&mut live.child).code(), Some(0));
}

#[test]
fn a_line_that_is_not_json_is_fatal() {
    let stdin = [
        json!({"type": "user", "message": {"role": "user", "content": "fake: say hi; sleep 30"}})
            .to_string(),
        r#"{"type": "user", "message": {not json"#.to_owned(),
    ]
    .join("\n");
    let started = Instant::now();
    let out = run(two_way(&[]), Some(format!("{stdin}\n").into_bytes()));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.json_lines().iter().any(is_result), "no result line");
    assert!(
        out.stderr_text()
            .contains("Error parsing streaming input line (type=user, 37 chars): SyntaxError"),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn stream_json_input_needs_stream_json_output_and_no_prompt() {
    let out = run(common::fake(&["-p", "--input-format", "stream-json"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out
        .stderr_text()
        .contains("requires output-format=stream-json"));
    let out = run(two_way(&["hi"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_record_has_the_flags_and_every_message() {
    let path = scratch_dir("record").join("record.jsonl");
    let mut cmd = two_way(&[
        "--permission-prompt-tool",
        "stdio",
        "--allowedTools",
        "Bash(git *),Edit Read",
        "--disallowed-tools=Bash(rm *)",
        "--permission-mode",
        "manual",
    ]);
    cmd.env("FAKE_CLAUDE_RECORD", &path);
    let mut live = Live::start(cmd);
    live.send(&interrupt("int-1"));
    live.user("hello");
    live.until(&mut Vec::new(), "the result", is_result);
    live.close_stdin();
    common::wait(&mut live.child);
    let text = std::fs::read_to_string(&path).expect("record file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let start = &lines[0];
    assert_eq!(start["input_format"], "stream-json");
    assert_eq!(start["permission_prompt_tool"], "stdio");
    assert_eq!(start["permission_mode"], "default", "manual is default");
    assert_eq!(
        start["allowed_tools"],
        json!(["Bash(git *)", "Edit", "Read"])
    );
    assert_eq!(start["disallowed_tools"], json!(["Bash(rm *)"]));
    assert_eq!(start["prompt"], Value::Null);
    assert_eq!(lines[1]["stdin"], interrupt("int-1"));
    assert_eq!(lines[2]["stdin"]["message"]["content"], "hello");
    assert_eq!(lines[2]["pid"], start["pid"]);
    let _ = std::fs::remove_dir_all(path.parent().expect("scratch dir"));
}
