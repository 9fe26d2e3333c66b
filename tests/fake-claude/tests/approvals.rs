//! The `ask` directive: permission modes, rules, and the host's `can_use_tool` answers.

mod common;

use std::path::{Path, PathBuf};

use common::{fake, run, scratch_dir, two_way, Live};
use serde_json::{json, Value};

const ASK_HOST: [&str; 4] = [
    "--permission-prompt-tool",
    "stdio",
    "--permission-mode",
    "default",
];

fn is_result(line: &Value) -> bool {
    line["type"] == "result"
}

fn is_question(line: &Value) -> bool {
    line["type"] == "control_request" && line["request"]["subtype"] == "can_use_tool"
}

fn says(line: &Value, text: &str) -> bool {
    line["type"] == "assistant" && line["message"]["content"][0]["text"] == text
}

fn block(line: &Value) -> &Value {
    &line["message"]["content"][0]
}

/// A two-way fake-claude in a new scratch dir.
fn start(name: &str, extra: &[&str]) -> (Live, PathBuf) {
    let dir = scratch_dir(name);
    let mut cmd = two_way(extra);
    cmd.current_dir(&dir);
    (Live::start(cmd), dir)
}

fn answer(live: &mut Live, question: &Value, response: Value) {
    live.send(
        &json!({"type": "control_response", "response": {"subtype": "success",
        "request_id": question["request_id"], "response": response}}),
    );
}

fn finish(mut live: Live, dir: &Path, code: i32) {
    live.close_stdin();
    assert_eq!(common::wait(&mut live.child).code(), Some(code));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_allowed_command_runs_with_the_hosts_input() {
    let (mut live, dir) = start("allow", &ASK_HOST);
    let mut seen = Vec::new();
    live.user("fake: ask Bash touch made.txt; ask Bash touch asked.txt; say after");
    let call = live.until(&mut seen, "the tool call", |l| {
        block(l)["type"] == "tool_use"
    });
    let question = live.until(&mut seen, "the question", is_question);
    let request = &question["request"];
    assert_eq!(request["tool_name"], "Bash");
    assert_eq!(request["display_name"], "Bash");
    assert_eq!(
        request["input"],
        json!({"command": "touch made.txt", "description": "Run: touch made.txt"})
    );
    assert_eq!(request["tool_use_id"], block(&call)["id"]);
    assert_eq!(
        request["permission_suggestions"],
        json!([{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch made.txt *"}],
            "behavior": "allow", "destination": "localSettings"}])
    );
    assert!(request.get("blocked_path").is_none());
    assert!(!dir.join("made.txt").exists(), "not before the answer");
    answer(
        &mut live,
        &question,
        json!({"behavior": "allow", "updatedInput": request["input"]}),
    );
    let result = live.until(&mut seen, "the tool result", |l| {
        block(l)["type"] == "tool_result"
    });
    assert_eq!(block(&result)["content"], "(Bash completed with no output)");
    assert_eq!(block(&result)["is_error"], false);
    live.until(&mut seen, "ask allowed", |l| says(l, "ask allowed"));
    assert!(dir.join("made.txt").exists());

    // The host's updatedInput is what runs.
    let question = live.until(&mut seen, "the second question", is_question);
    answer(
        &mut live,
        &question,
        json!({"behavior": "allow",
        "updatedInput": {"command": "touch changed.txt", "description": "x"}}),
    );
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["result"], "ask allowed\nask allowed\nafter");
    assert_eq!(result["permission_denials"], json!([]));
    assert!(dir.join("changed.txt").exists() && !dir.join("asked.txt").exists());
    finish(live, &dir, 0);
}

#[test]
fn a_denied_command_does_not_run_and_the_turn_goes_on() {
    let (mut live, dir) = start("deny", &ASK_HOST);
    let mut seen = Vec::new();
    live.user("fake: ask Bash echo made > made.txt; ask Bash touch b.txt; ask Bash touch c.txt");
    let question = live.until(&mut seen, "the question", is_question);
    let blocked = dir.join("made.txt").to_string_lossy().into_owned();
    assert_eq!(question["request"]["blocked_path"], blocked.as_str());
    assert_eq!(
        question["request"]["permission_suggestions"][0]["rules"][0]["ruleContent"],
        "echo made *"
    );
    assert_eq!(
        question["request"]["permission_suggestions"][1],
        json!({"type": "addDirectories", "directories": [dir.to_string_lossy()], "destination": "session"})
    );
    answer(
        &mut live,
        &question,
        json!({"behavior": "deny", "message": "The host said no"}),
    );
    let result = live.until(&mut seen, "the tool result", |l| {
        block(l)["type"] == "tool_result"
    });
    assert_eq!(
        (&block(&result)["content"], &block(&result)["is_error"]),
        (&json!("The host said no"), &json!(true))
    );
    live.until(&mut seen, "ask denied", |l| {
        says(l, "ask denied: The host said no")
    });

    // An error response is a refusal too.
    let question = live.until(&mut seen, "the second question", is_question);
    live.send(
        &json!({"type": "control_response", "response": {"subtype": "error",
        "request_id": question["request_id"], "error": "host exploded"}}),
    );
    live.until(&mut seen, "the second refusal", |l| {
        says(
            l,
            "ask denied: Tool permission request failed: Error: host exploded",
        )
    });

    // A denial with `interrupt` ends the turn.
    let question = live.until(&mut seen, "the third question", is_question);
    answer(
        &mut live,
        &question,
        json!({"behavior": "deny", "message": "stop", "interrupt": true}),
    );
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["subtype"], "error_during_execution");
    let denials = result["permission_denials"].as_array().expect("denials");
    assert_eq!(denials.len(), 3);
    assert_eq!(denials[0]["tool_input"]["command"], "echo made > made.txt");
    assert!(
        !seen.iter().any(|l| l["subtype"] == "permission_denied"),
        "the host refused"
    );
    assert!(!dir.join("made.txt").exists() && !dir.join("b.txt").exists());
    finish(live, &dir, 1);
}

#[test]
fn file_tools_ask_and_write() {
    let (mut live, dir) = start("files", &ASK_HOST);
    std::fs::write(dir.join("old.txt"), "old text\n").expect("a file to edit");
    let outside = scratch_dir("files-outside");
    let mut seen = Vec::new();
    live.user(&format!(
        "fake: ask Write d/new.txt hello  there; ask Edit old.txt old new; ask Write {}/out.txt x",
        outside.display()
    ));
    let mut questions = Vec::new();
    for _ in 0..3 {
        let question = live.until(&mut seen, "a question", is_question);
        answer(&mut live, &question, json!({"behavior": "allow"}));
        questions.push(question["request"].clone());
    }
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["result"], "ask allowed\nask allowed\nask allowed");
    let set_mode = json!({"type": "setMode", "mode": "acceptEdits", "destination": "session"});
    assert_eq!(questions[0]["tool_name"], "Write");
    assert_eq!(questions[0]["description"], "d/new.txt");
    assert_eq!(questions[0]["permission_suggestions"], json!([set_mode]));
    assert_eq!(
        questions[0]["input"],
        json!({"file_path": dir.join("d/new.txt").to_string_lossy(), "content": "hello  there"})
    );
    assert_eq!(questions[1]["input"]["replace_all"], false);
    assert_eq!(questions[2]["decision_reason_type"], "workingDir");
    assert_eq!(
        questions[2]["permission_suggestions"][1]["directories"],
        json!([outside.to_string_lossy()])
    );
    let read = |p: PathBuf| std::fs::read_to_string(p).expect("written");
    assert_eq!(read(dir.join("d/new.txt")), "hello  there");
    assert_eq!(read(dir.join("old.txt")), "new text\n");
    assert_eq!(read(outside.join("out.txt")), "x");
    let _ = std::fs::remove_dir_all(&outside);
    finish(live, &dir, 0);
}

#[test]
fn rules_and_modes_decide_without_asking() {
    let cases: [(&[&str], &str, bool); 6] = [
        (
            &["--allowedTools", "Bash(touch *)"],
            "ask Bash touch made.txt",
            true,
        ),
        (
            &["--permission-mode", "bypassPermissions"],
            "ask Bash touch made.txt",
            true,
        ),
        (
            &["--permission-mode", "acceptEdits"],
            "ask Write made.txt hi",
            true,
        ),
        (
            &["--permission-mode", "dontAsk"],
            "ask Bash touch made.txt",
            false,
        ),
        (
            &["--disallowedTools", "Bash(touch *)"],
            "ask Bash touch made.txt",
            false,
        ),
        (
            &["--permission-mode", "plan"],
            "ask Write made.txt hi",
            false,
        ),
    ];
    for (flags, script, runs) in cases {
        let mut args = vec!["--permission-prompt-tool", "stdio"];
        args.extend_from_slice(flags);
        let dir = scratch_dir("rules");
        let mut cmd = two_way(&args);
        cmd.current_dir(&dir).env("IS_SANDBOX", "1");
        let mut live = Live::start(cmd);
        let mut seen = Vec::new();
        live.user(&format!("fake: {script}"));
        let result = live.until(&mut seen, "the result", is_result);
        assert!(!seen.iter().any(is_question), "{flags:?}: {seen:#?}");
        assert_eq!(dir.join("made.txt").exists(), runs, "{flags:?}");
        let denials = result["permission_denials"].as_array().map_or(0, Vec::len);
        assert_eq!(denials, usize::from(!runs), "{flags:?}");
        let announced = seen.iter().any(|l| l["subtype"] == "permission_denied");
        assert_eq!(announced, !runs, "{flags:?}");
        finish(live, &dir, 0);
    }
}

#[test]
fn without_a_host_to_ask_the_tool_is_refused_and_counted() {
    let dir = scratch_dir("one-way");
    let mut cmd = fake(&[
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "fake: ask Bash echo x > refused.txt",
    ]);
    cmd.current_dir(&dir);
    let out = run(cmd, None);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr_text());
    let lines = out.json_lines();
    let notice = lines
        .iter()
        .find(|l| l["subtype"] == "permission_denied")
        .expect("a notice");
    assert!(notice["message"]
        .as_str()
        .is_some_and(|m| m.contains("needs approval")));
    let refused = lines
        .iter()
        .find(|l| block(l)["type"] == "tool_result")
        .expect("a result");
    assert_eq!(
        (&block(refused)["is_error"], &block(refused)["content"]),
        (&json!(true), &notice["message"])
    );
    let result = lines.last().expect("a result line");
    assert_eq!(
        (&result["is_error"], &result["subtype"]),
        (&json!(false), &json!("success"))
    );
    assert_eq!(result["permission_denials"][0]["tool_name"], "Bash");
    assert!(!dir.join("refused.txt").exists());

    // Two-way, but without --permission-prompt-tool stdio: refused the same way.
    let mut cmd = two_way(&[]);
    cmd.current_dir(&dir);
    let mut live = Live::start(cmd);
    let mut seen = Vec::new();
    live.user("fake: ask Bash echo x > refused.txt");
    let result = live.until(&mut seen, "the result", is_result);
    assert!(!seen.iter().any(is_question));
    assert_eq!(
        result["permission_denials"].as_array().map(Vec::len),
        Some(1)
    );
    finish(live, &dir, 0);
}

#[test]
fn closing_stdin_refuses_an_open_question_and_ends_the_turn() {
    let (mut live, dir) = start("closed", &ASK_HOST);
    let mut seen = Vec::new();
    live.user("fake: ask Bash touch made.txt; say after");
    live.until(&mut seen, "the question", is_question);
    live.close_stdin();
    let refused = live.until(&mut seen, "the tool result", |l| {
        block(l)["type"] == "tool_result"
    });
    assert_eq!(
        block(&refused)["content"],
        "Tool permission request failed: AbortError: Tool permission stream closed before response received"
    );
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(
        (
            &result["is_error"],
            &result["permission_denials"].as_array().map(Vec::len)
        ),
        (&json!(false), &Some(1))
    );
    assert!(!dir.join("made.txt").exists());
    finish(live, &dir, 0);
}

#[test]
fn an_interrupt_while_asking_ends_the_turn() {
    let (mut live, dir) = start("ask-interrupt", &ASK_HOST);
    let mut seen = Vec::new();
    live.user("fake: ask Bash touch made.txt; say after");
    live.until(&mut seen, "the question", is_question);
    live.send(&json!({"type": "control_request", "request_id": "int-1", "request": {"subtype": "interrupt"}}));
    let ack = live.until(&mut seen, "the answer", |l| l["type"] == "control_response");
    assert_eq!(ack["response"]["request_id"], "int-1");
    let stopped = live.until(&mut seen, "the tool result", |l| {
        block(l)["type"] == "tool_result"
    });
    let text = block(&stopped)["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.starts_with("The user doesn't want to proceed") && !text.contains("while running")
    );
    let result = live.until(&mut seen, "the result", is_result);
    assert_eq!(result["subtype"], "error_during_execution");
    assert!(!seen.iter().any(|l| says(l, "after")));
    assert!(!dir.join("made.txt").exists());
    finish(live, &dir, 1);
}
