//! The supervisor running the real Claude Code CLI against the mock Messages API: output
//! formats, real tool runs, API errors, cancel, follow-up and concurrency.

use std::time::{Duration, Instant};

use supervisor::transcript::Entry;
use supervisor::{
    Error, Event, ExitInfo, Supervisor, TaskId, TaskRecord, TaskStatus, MAX_PROMPT_ARG_BYTES,
};
use tasktray_real_cli::{
    bash, claude_bin, cmdline, entries, environ, json, message_texts, pinned_version, project_in,
    request, run_to_end, task_processes, text_request, transcript_file, RealCli, DUMMY_API_KEY,
    GRACE,
};
use tasktray_test_support::{alive, bounded, wait_until_async, zombie_children};

/// How long a step of a real run may take before the test gives up on it (the outer bound
/// of every test is `tasktray_test_support::TEST_TIMEOUT`).
const STEP: Duration = Duration::from_secs(30);

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "missing {needle:?} in:\n{haystack}"
    );
}

/// The reason of task `id`'s `Failed` event (subscribe before it can finish).
async fn failure_reason(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    id: TaskId,
) -> String {
    loop {
        match events.recv().await.expect("events") {
            Event::Failed { task, reason } if task == id => return reason,
            event if event.task() == id && event.is_finish() => {
                panic!("task {id} did not fail: {event:?}")
            }
            _ => {}
        }
    }
}

/// Runs a stream-json task with the session kept and returns it, completed.
async fn run_keeping_the_session(
    sup: &Supervisor,
    project: &std::path::Path,
    prompt: &str,
) -> TaskRecord {
    let mut req = request(project, prompt);
    req.options.keep_session = true;
    let done = run_to_end(sup, req).await;
    assert_eq!(
        done.status,
        TaskStatus::Completed,
        "{}",
        sup.output_text(done.id).unwrap_or_default()
    );
    done
}

/// No process of the task is left, and its shim was reaped.
fn assert_tree_gone(sup: &supervisor::Supervisor, task: &TaskRecord) {
    let left = task_processes(sup, task.id);
    assert!(
        left.is_empty(),
        "processes of task {} left: {left:?}",
        task.id
    );
    let shim = task.shim.expect("the shim was recorded").pid;
    assert!(!alive(shim), "shim {shim} still runs");
    assert!(
        !zombie_children().contains(&shim),
        "shim {shim} was not reaped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_version_is_installed() {
    bounded(async {
        let out = tokio::process::Command::new(claude_bin())
            .arg("--version")
            .kill_on_drop(true)
            .output()
            .await
            .expect("run claude --version");
        let version = String::from_utf8_lossy(&out.stdout);
        assert!(
            version.trim().starts_with(&pinned_version()),
            "tests/node_modules has claude {version:?}, tests/package.json pins {}: run `npm ci --prefix tests`",
            pinned_version()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_format_completes_with_the_final_answer_in_the_output() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [{"text": "The answer is 42.\nThat is all."}]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let done = run_to_end(&sup, text_request(&project, "What is the answer?")).await;
        let output = sup.output_text(done.id).expect("output");
        assert_eq!(done.status, TaskStatus::Completed, "{output}");
        assert_eq!(done.exit, Some(ExitInfo::Code(0)));
        // Text format prints only the final answer, at the end.
        assert_eq!(output.trim(), "The answer is 42.\nThat is all.");
        let transcript = transcript_file(&done);
        assert_contains(&transcript, "**Status:** completed");
        assert_contains(&transcript, "The answer is 42.\nThat is all.");
        assert_eq!(cli.mock.model_calls().len(), 1);
        assert_tree_gone(&sup, &done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_json_shows_text_tool_call_tool_result_and_the_final_result() {
    bounded(async {
        let mut first = bash("echo tool-says-hi");
        first["text"] = json!("Let me look around.");
        let cli = RealCli::new(json!({"turns": [first, {"text": "All done here."}]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let done = run_to_end(&sup, request(&project, "Say hi through a tool")).await;
        let output = sup.output_text(done.id).expect("output");
        assert_eq!(done.status, TaskStatus::Completed, "{output}");

        let result = done.result.clone().expect("a result line was recognised");
        assert!(!result.is_error);
        assert_eq!(result.subtype, "success");
        assert_eq!(result.text, "All done here.");
        assert!(result.cost_usd.is_some_and(|c| c > 0.0), "{result:?}");
        assert_eq!(result.num_turns, Some(2));
        assert!(result.duration_ms.is_some(), "{result:?}");
        let session = done.session_id.clone().expect("the session id");
        assert_eq!(result.session_id.as_deref(), Some(session.as_str()));

        let entries = entries(&sup, done.id);
        let session_notice = format!("session {session}");
        assert!(
            entries.iter().any(
                |e| matches!(e, Entry::System { subtype, text } if subtype == "init" && text.starts_with(&session_notice))
            ),
            "{entries:#?}"
        );
        assert!(entries
            .iter()
            .any(|e| matches!(e, Entry::Text { text } if text == "Let me look around.")));
        let call_id = entries
            .iter()
            .find_map(|e| match e {
                Entry::ToolCall {
                    id, name, summary, ..
                } if name == "Bash" && summary == "echo tool-says-hi" => Some(id.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no Bash tool call in {entries:#?}"));
        assert!(
            entries.iter().any(|e| matches!(e, Entry::ToolResult { tool_use_id, text, is_error: false } if *tool_use_id == call_id && text.contains("tool-says-hi"))),
            "{entries:#?}"
        );
        assert!(matches!(entries.last(), Some(Entry::Result(r)) if r.text == "All done here."));

        let transcript = transcript_file(&done);
        for needle in [
            "**Status:** completed",
            "**Turns:** 2",
            "**Cost:** $",
            &format!("**Session:** {session}"),
            "Let me look around.",
            "→ Bash: echo tool-says-hi",
            "  ← tool-says-hi",
            "All done here.",
            "✓ done (",
        ] {
            assert_contains(&transcript, needle);
        }

        // The mock saw one conversation: the tool result went back in the second call.
        let calls = cli.mock.model_calls();
        assert_eq!(calls.len(), 2, "{calls:#?}");
        assert_eq!(
            cli.mock.sessions().into_iter().collect::<Vec<_>>(),
            [session]
        );
        assert_eq!(calls[0]["headers"]["x-api-key"], DUMMY_API_KEY);
        let second = calls[1]["body"]["messages"].to_string();
        assert_contains(&second, &call_id);
        assert_contains(&second, "tool-says-hi");
        assert_tree_gone(&sup, &done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bash_tool_and_a_write_tool_really_change_the_project() {
    bounded(async {
        let written_in = |sandbox: &_| project_in(sandbox, "p").join("notes/written.txt");
        let cli = RealCli::new_with(|sandbox| {
            json!({"turns": [
                bash("echo made-by-bash > bash.txt"),
                // The Write tool takes an absolute `file_path` and the `content`.
                {"tool_use": {"name": "Write", "input": {
                    "file_path": written_in(sandbox),
                    "content": "made by the Write tool\n"
                }}},
                {"text": "Both files are there."}
            ]})
        });
        let project = cli.project("p");
        let written = written_in(&cli.sandbox);
        let sup = cli.supervisor();
        let done = run_to_end(&sup, request(&project, "Write two files")).await;
        let output = sup.output_text(done.id).expect("output");
        assert_eq!(done.status, TaskStatus::Completed, "{output}");
        assert_eq!(
            std::fs::read_to_string(project.join("bash.txt")).expect("bash.txt"),
            "made-by-bash\n"
        );
        assert_eq!(
            std::fs::read_to_string(&written).expect("written.txt"),
            "made by the Write tool\n"
        );
        let transcript = transcript_file(&done);
        assert_contains(&transcript, "→ Bash: echo made-by-bash > bash.txt");
        assert_contains(&transcript, &format!("→ Write: {}", written.display()));
        assert_tree_gone(&sup, &done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_500_fails_the_task_with_claudes_message_everywhere() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"error": {"status": 500, "message": "mock internal trouble"}}
        ]}));
        let sup = cli.supervisor();
        let mut events = sup.subscribe();
        let project = cli.project("p");
        let id = sup.spawn(request(&project, "Do something")).expect("spawn");
        let done = sup.wait(id).await.expect("wait");
        let output = sup.output_text(id).expect("output");
        assert_eq!(done.status, TaskStatus::Failed, "{output}");
        // Errors go to stdout with exit code 1 and a result line with is_error.
        assert_eq!(done.exit, Some(ExitInfo::Code(1)));
        let result = done.result.clone().expect("a result line");
        assert!(result.is_error, "{result:?}");
        assert_contains(&result.text, "API Error: 500 mock internal trouble");
        assert_contains(&output, "API Error: 500 mock internal trouble");

        let reason = failure_reason(&mut events, id).await;
        assert_contains(&reason, "API Error: 500 mock internal trouble");

        let transcript = transcript_file(&done);
        assert_contains(&transcript, "**Status:** failed");
        assert_contains(&transcript, "✗ error");
        assert_contains(&transcript, "API Error: 500 mock internal trouble");
        // No retry: exactly one model call.
        assert_eq!(cli.mock.model_calls().len(), 1);
        assert_tree_gone(&sup, &done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_rate_limit_and_overload_errors_fail_with_the_message_visible() {
    bounded(async {
        // (status, the API's message, what claude says)
        let cases = [
            // The real API's answer to a bad key; claude replaces it with its own advice.
            (
                401,
                "invalid x-api-key",
                "Invalid API key · Fix external API key",
            ),
            (
                403,
                "not allowed here",
                "Failed to authenticate. API Error: 403 not allowed here",
            ),
            (
                429,
                "slow down",
                "API Error: Request rejected (429) · slow down",
            ),
            (
                529,
                "the mock is overloaded",
                "API Error: 529 the mock is overloaded",
            ),
        ];
        let mut by_prompt = serde_json::Map::new();
        for (status, message, _) in cases {
            by_prompt.insert(
                format!("case-{status}"),
                json!([{"error": {"status": status, "message": message}}]),
            );
        }
        let cli = RealCli::new(json!({"by_prompt": by_prompt}));
        let sup = cli.supervisor();
        let ids: Vec<_> = cases
            .iter()
            .map(|(status, _, _)| {
                let project = cli.project(&format!("p{status}"));
                sup.spawn(request(&project, &format!("Run case-{status}")))
                    .expect("spawn")
            })
            .collect();
        for (id, (status, _, expected)) in ids.into_iter().zip(cases) {
            let done = sup.wait(id).await.expect("wait");
            let output = sup.output_text(id).expect("output");
            assert_eq!(done.status, TaskStatus::Failed, "{status}: {output}");
            let result = done.result.clone().expect("a result line");
            assert!(result.is_error, "{status}: {result:?}");
            assert_contains(&result.text, expected);
            assert_contains(&output, expected);
            assert_contains(&transcript_file(&done), expected);
            assert_tree_gone(&sup, &done);
        }
        // One call each: no retries.
        assert_eq!(cli.mock.model_calls().len(), cases.len());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_a_long_bash_tool_stops_the_whole_tree_within_the_grace_period() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            bash("echo started > started.txt; sleep 300"),
            {"text": "never reached"}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let id = sup
            .spawn(request(&project, "Run a long command"))
            .expect("spawn");
        let sleep_pid = || {
            task_processes(&sup, id)
                .into_iter()
                .find(|&pid| cmdline(pid) == ["sleep", "300"])
        };
        assert!(
            wait_until_async(STEP, || sleep_pid().is_some()).await,
            "the Bash tool never started `sleep 300`; output:\n{}",
            sup.output_text(id).unwrap_or_default()
        );
        assert!(project.join("started.txt").is_file());
        let sleeper = sleep_pid().expect("the sleep pid");
        let record = sup.get(id).expect("record");
        let shim = record.shim.expect("shim").pid;

        // The tool runs in a session of its own: a group kill of the agent would miss it.
        let agent = task_processes(&sup, id)
            .into_iter()
            .find(|&pid| supervisor::procfs::stat(pid).is_some_and(|s| s.ppid == shim))
            .expect("the agent, the shim's child");
        let sid = |pid: i32| nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))).ok();
        assert_ne!(
            sid(sleeper),
            sid(agent),
            "the tool shares the agent's session"
        );

        // What the agent inherited: the test's values, not the developer's.
        let env = environ(agent);
        let var = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let home = cli.home();
        let config_dir = cli.claude_config_dir();
        let tmp_dir = cli.claude_tmp_dir();
        let base_url = cli.mock.base_url();
        assert_eq!(var("HOME"), home.to_str());
        assert_eq!(var("CLAUDE_CONFIG_DIR"), config_dir.to_str());
        assert_eq!(var("CLAUDE_CODE_TMPDIR"), tmp_dir.to_str());
        assert_eq!(var("ANTHROPIC_BASE_URL"), Some(base_url.as_str()));
        assert_eq!(var("ANTHROPIC_API_KEY"), Some(DUMMY_API_KEY));
        assert_eq!(var("CLAUDECODE"), None);
        for (key, value) in &env {
            if key.starts_with("ANTHROPIC_")
                && !matches!(key.as_str(), "ANTHROPIC_BASE_URL" | "ANTHROPIC_API_KEY")
            {
                assert_eq!(value, "", "{key} leaked into the agent");
            }
        }

        let started = Instant::now();
        let done = sup.cancel(id).await.expect("cancel");
        let took = started.elapsed();
        eprintln!("cancel took {took:?}");
        assert_eq!(done.status, TaskStatus::Cancelled);
        assert!(
            took <= GRACE + Duration::from_secs(1),
            "cancel took {took:?}"
        );
        assert!(
            !alive(sleeper),
            "`sleep 300` ({sleeper}) survived the cancel"
        );
        assert_tree_gone(&sup, &done);
        assert_contains(&transcript_file(&done), "**Status:** cancelled");

        // The project is free again.
        let next = sup
            .spawn(request(&project, "next"))
            .expect("the project is free");
        let next = sup.cancel(next).await.expect("cancel the next one");
        assert_eq!(next.status, TaskStatus::Cancelled);
        assert_tree_gone(&sup, &next);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_the_api_never_answers_is_prompt() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [{"hang": true}]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let id = sup.spawn(request(&project, "Wait forever")).expect("spawn");
        assert!(
            wait_until_async(STEP, || !cli.mock.model_calls().is_empty()).await,
            "the request never reached the mock; output:\n{}",
            sup.output_text(id).unwrap_or_default()
        );
        let started = Instant::now();
        let done = sup.cancel(id).await.expect("cancel");
        let took = started.elapsed();
        eprintln!("cancel took {took:?}");
        assert_eq!(done.status, TaskStatus::Cancelled);
        assert!(
            took <= GRACE + Duration::from_secs(1),
            "cancel took {took:?}"
        );
        assert_tree_gone(&sup, &done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_resumes_the_session_with_the_earlier_turns() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"text": "First answer: the number is 7."},
            {"text": "Second answer: 7 plus 1 is 8."}
        ]}));
        let sup = cli.supervisor();
        let project = cli.project("p");
        let first = run_keeping_the_session(&sup, &project, "Remember the number 7").await;
        let session = first.session_id.clone().expect("the first task's session");
        // The session was kept in the isolated config dir, not in the real ~/.claude.
        let kept = std::fs::read_dir(cli.claude_config_dir().join("projects"))
            .expect("the CLI's projects folder")
            .filter_map(Result::ok)
            .any(|dir| dir.path().join(format!("{session}.jsonl")).is_file());
        assert!(kept, "session {session} is not in CLAUDE_CONFIG_DIR");

        let second_id = sup
            .follow_up(first.id, "Add one to the number".into())
            .expect("follow up");
        let second = sup.wait(second_id).await.expect("wait");
        let output = sup.output_text(second_id).expect("output");
        assert_eq!(second.status, TaskStatus::Completed, "{output}");
        assert_eq!(second.follow_up_of, Some(first.id));
        assert_eq!(second.options.resume.as_deref(), Some(session.as_str()));
        assert_eq!(
            second.result.as_ref().map(|r| r.text.as_str()),
            Some("Second answer: 7 plus 1 is 8.")
        );

        // The mock saw the earlier turns in the follow-up's request.
        let calls = cli.mock.model_calls();
        assert_eq!(calls.len(), 2, "{calls:#?}");
        let resumed = &calls[1];
        let users = message_texts(resumed, "user").join("\n");
        assert_contains(&users, "Remember the number 7");
        assert_contains(&users, "Add one to the number");
        assert_eq!(
            message_texts(resumed, "assistant"),
            ["First answer: the number is 7."]
        );
        assert_eq!(
            resumed["headers"]["x-claude-code-session-id"].as_str(),
            Some(session.as_str())
        );
        assert_tree_gone(&sup, &second);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_run_at_once_and_a_busy_project_is_refused() {
    bounded(async {
        // Each tool waits for a `go` file, so both tasks are surely running at the same time.
        let wait_for_go = |name: &str| {
            bash(&format!(
                "echo started > started.txt; while [ ! -e go ]; do sleep 0.05; done; echo {name}-went"
            ))
        };
        let cli = RealCli::new(json!({"by_prompt": {
            "project-alpha": [wait_for_go("alpha"), {"text": "alpha finished"}],
            "project-beta": [wait_for_go("beta"), {"text": "beta finished"}]
        }}));
        let sup = cli.supervisor();
        let alpha = cli.project("alpha");
        let beta = cli.project("beta");
        let a = sup
            .spawn(request(&alpha, "Work on project-alpha"))
            .expect("spawn alpha");
        let b = sup
            .spawn(request(&beta, "Work on project-beta"))
            .expect("spawn beta");
        assert!(
            wait_until_async(STEP, || {
                alpha.join("started.txt").is_file() && beta.join("started.txt").is_file()
            })
            .await,
            "both tools should be running; alpha:\n{}\nbeta:\n{}",
            sup.output_text(a).unwrap_or_default(),
            sup.output_text(b).unwrap_or_default()
        );
        assert_eq!(sup.running().len(), 2);
        match sup.spawn(request(&alpha, "Also project-alpha")) {
            Err(Error::ProjectBusy { task_id, .. }) => assert_eq!(task_id, a),
            other => panic!("expected ProjectBusy, got {other:?}"),
        }

        std::fs::write(beta.join("go"), "").expect("go beta");
        let done_b = sup.wait(b).await.expect("wait beta");
        assert_eq!(sup.get(a).expect("alpha").status, TaskStatus::Running);
        std::fs::write(alpha.join("go"), "").expect("go alpha");
        let done_a = sup.wait(a).await.expect("wait alpha");
        for (done, name) in [(&done_a, "alpha"), (&done_b, "beta")] {
            let output = sup.output_text(done.id).expect("output");
            assert_eq!(done.status, TaskStatus::Completed, "{name}: {output}");
            assert_eq!(
                done.result.as_ref().map(|r| r.text.clone()),
                Some(format!("{name} finished"))
            );
            assert_contains(&output, &format!("{name}-went"));
            assert_contains(&transcript_file(done), &format!("{name} finished"));
            assert_tree_gone(&sup, done);
        }
        assert_ne!(done_a.session_id, done_b.session_id);
        assert_eq!(cli.mock.sessions().len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_passed_on_stdin_reach_claude_whole() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [{"text": "received"}]}));
        let sup = cli.supervisor();
        // A prompt that looks like a flag, and one too long for an argument, go on stdin.
        let dashed = "--not-a-flag: say hi";
        let long = format!(
            "long prompt {} END-OF-LONG-PROMPT",
            "x".repeat(MAX_PROMPT_ARG_BYTES)
        );
        for (name, prompt) in [("dashed", dashed), ("long", long.as_str())] {
            let done = run_to_end(&sup, request(&cli.project(name), prompt)).await;
            let output = sup.output_text(done.id).expect("output");
            assert_eq!(done.status, TaskStatus::Completed, "{name}: {output}");
            let calls = cli.mock.model_calls();
            let call = calls.last().expect("a model call");
            let users = message_texts(call, "user");
            assert!(
                users.iter().any(|t| t == prompt),
                "{name}: the prompt did not arrive whole"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_format_api_error_fails_with_claudes_message_in_the_output() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"error": {"status": 500, "message": "text mode trouble"}}
        ]}));
        let sup = cli.supervisor();
        let done = run_to_end(&sup, text_request(&cli.project("p"), "Do it")).await;
        let output = sup.output_text(done.id).expect("output");
        assert_eq!(done.status, TaskStatus::Failed, "{output}");
        assert_eq!(done.exit, Some(ExitInfo::Code(1)));
        // Text format: the message is the whole stdout, no result line.
        assert_contains(&output, "API Error: 500 text mode trouble");
        assert_contains(&transcript_file(&done), "API Error: 500 text mode trouble");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_format_api_error_gives_claudes_message_as_the_failure_reason() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"error": {"status": 500, "message": "text mode trouble"}}
        ]}));
        let sup = cli.supervisor();
        let mut events = sup.subscribe();
        let id = sup
            .spawn(text_request(&cli.project("p"), "Do it"))
            .expect("spawn");
        let reason = failure_reason(&mut events, id).await;
        assert_contains(&reason, "API Error: 500 text mode trouble");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_ups_cost_is_its_own() {
    bounded(async {
        // Both answers cost the same (the mock reports the same usage for each call).
        let cli = RealCli::new(json!({"turns": [{"text": "one"}, {"text": "two"}]}));
        let sup = cli.supervisor();
        let first = run_keeping_the_session(&sup, &cli.project("p"), "First").await;
        let second = sup.follow_up(first.id, "Second".into()).expect("follow up");
        let second = sup.wait(second).await.expect("wait");
        let cost = |r: &TaskRecord| r.result.as_ref().and_then(|r| r.cost_usd).expect("a cost");
        assert!(
            (cost(&second) - cost(&first)).abs() < 1e-9,
            "first ${}, follow-up ${}",
            cost(&first),
            cost(&second)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_of_a_lost_session_fails_with_claudes_message_in_the_output() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [{"text": "one"}, {"text": "two"}]}));
        let sup = cli.supervisor();
        let first = run_keeping_the_session(&sup, &cli.project("p"), "First").await;
        remove_session(&cli, first.session_id.as_deref().expect("a session"));
        let second = sup.follow_up(first.id, "Second".into()).expect("follow up");
        let second = sup.wait(second).await.expect("wait");
        let output = sup.output_text(second.id).expect("output");
        assert_eq!(second.status, TaskStatus::Failed, "{output}");
        // Claude says why on stderr; its result line has no `result` text, only `errors`.
        assert_contains(&output, "No conversation found with session ID");
        assert_contains(
            &transcript_file(&second),
            "No conversation found with session ID",
        );
        assert_eq!(cli.mock.model_calls().len(), 1, "no call for the follow-up");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_of_a_lost_session_gives_claudes_message_as_the_failure_reason() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [{"text": "one"}, {"text": "two"}]}));
        let sup = cli.supervisor();
        let first = run_keeping_the_session(&sup, &cli.project("p"), "First").await;
        remove_session(&cli, first.session_id.as_deref().expect("a session"));
        let mut events = sup.subscribe();
        let second = sup.follow_up(first.id, "Second".into()).expect("follow up");
        let reason = failure_reason(&mut events, second).await;
        assert_contains(&reason, "No conversation found with session ID");
        let done = sup.wait(second).await.expect("wait");
        let result = done.result.expect("a result line");
        assert_contains(&result.text, "No conversation found with session ID");
    })
    .await;
}

/// Deletes a kept session from the CLI's config dir, as its cleanup of old sessions does.
fn remove_session(cli: &RealCli, session: &str) {
    let mut removed = 0;
    for dir in std::fs::read_dir(cli.claude_config_dir().join("projects")).expect("projects") {
        let file = dir.expect("entry").path().join(format!("{session}.jsonl"));
        if std::fs::remove_file(&file).is_ok() {
            removed += 1;
        }
    }
    assert_eq!(
        removed, 1,
        "session {session} not found in CLAUDE_CONFIG_DIR"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_retries_are_shown_with_their_status_and_delay() {
    bounded(async {
        let cli = RealCli::new(json!({"turns": [
            {"error": {"status": 529, "message": "busy", "retry": true}}
        ]}));
        let mut config = cli.config();
        // The user's default: retries (two here, to keep the test short).
        config
            .extra_env
            .push(("CLAUDE_CODE_MAX_RETRIES".into(), "2".into()));
        let sup = supervisor::Supervisor::start(config, tokio::runtime::Handle::current())
            .expect("supervisor");
        let done = run_to_end(&sup, request(&cli.project("p"), "Try")).await;
        assert_eq!(done.status, TaskStatus::Failed);
        assert_eq!(cli.mock.model_calls().len(), 3, "one call and two retries");
        let retries: Vec<String> = entries(&sup, done.id)
            .into_iter()
            .filter_map(|e| match e {
                Entry::System { subtype, text } if subtype == "api_retry" => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(retries.len(), 2, "{retries:?}");
        assert!(
            retries.iter().all(|t| t.contains("529")),
            "retry notices without their cause: {retries:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_bypass_permissions_without_is_sandbox_fails_with_claudes_reason() {
    bounded(async {
        if !nix::unistd::geteuid().is_root() {
            // Only root is refused; as another user the run would simply complete.
            eprintln!("skipped: Claude Code refuses bypassPermissions only when run as root");
            return;
        }
        let cli = RealCli::new(json!({"turns": [{"text": "never"}]}));
        let mut config = cli.config();
        config.extra_env.push(("IS_SANDBOX".into(), "".into()));
        let sup = supervisor::Supervisor::start(config, tokio::runtime::Handle::current())
            .expect("supervisor");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(request(&cli.project("p"), "Anything"))
            .expect("spawn");
        let reason = failure_reason(&mut events, id).await;
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Failed);
        assert_eq!(done.exit, Some(ExitInfo::Code(1)));
        assert!(done.result.is_none(), "no result line: {:?}", done.result);
        assert_contains(
            &reason,
            "--dangerously-skip-permissions cannot be used with root/sudo privileges",
        );
        assert!(cli.mock.model_calls().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_a_file_over_a_mebibyte_still_reads_as_a_tool_call() {
    bounded(async {
        let big_in = |sandbox: &_| project_in(sandbox, "p").join("big.txt");
        let content = format!("{}\n", "y".repeat(99)).repeat(12_000);
        let cli = RealCli::new_with(|sandbox| {
            json!({"turns": [
                {"tool_use": {"name": "Write", "input": {
                    "file_path": big_in(sandbox),
                    "content": content,
                }}},
                {"text": "big file written"}
            ]})
        });
        let sup = cli.supervisor();
        let big = big_in(&cli.sandbox);
        let done = run_to_end(&sup, request(&cli.project("p"), "Write a big file")).await;
        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(std::fs::metadata(&big).expect("big.txt").len(), 1_200_000);
        let transcript = transcript_file(&done);
        assert_contains(&transcript, &format!("→ Write: {}", big.display()));
        assert!(
            transcript.len() < 100_000,
            "the transcript holds the raw events: {} bytes",
            transcript.len()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_its_own_worktree_claudes_tools_write_into_the_worktree_not_the_main_folder() {
    bounded(async {
        // The first task's worktree: `<data dir>/worktrees/1`.
        let written_in = |sandbox: &tasktray_test_support::Sandbox| {
            sandbox.data_dir().join("worktrees/1/notes/written.txt")
        };
        let cli = RealCli::new_with(|sandbox| {
            json!({"turns": [
                bash("echo made-by-bash > bash.txt && pwd"),
                {"tool_use": {"name": "Write", "input": {
                    "file_path": written_in(sandbox),
                    "content": "made by the Write tool\n"
                }}},
                {"text": "Both files are there."}
            ]})
        });
        let project = tasktray_test_support::git_repo(&cli.project("p"));
        let written = written_in(&cli.sandbox);
        let sup = cli.supervisor();
        let mut req = request(&project, "Write two files");
        req.options.worktree = true;
        let done = run_to_end(&sup, req).await;
        let output = sup.output_text(done.id).expect("output");
        assert_eq!(done.status, TaskStatus::Completed, "{output}");
        let worktree = done.worktree.clone().expect("the task's worktree");
        assert_eq!(
            written.parent().and_then(|p| p.parent()),
            Some(worktree.dir.as_path())
        );
        assert_contains(&output, &worktree.dir.display().to_string());
        assert_eq!(
            std::fs::read_to_string(worktree.dir.join("bash.txt")).expect("bash.txt"),
            "made-by-bash\n"
        );
        assert_eq!(
            std::fs::read_to_string(&written).expect("written.txt"),
            "made by the Write tool\n"
        );
        assert!(
            !project.join("bash.txt").exists(),
            "Bash wrote into the main folder"
        );
        assert!(
            !project.join("notes").exists(),
            "Write wrote into the main folder"
        );
        // Both were committed onto the task's branch when it ended, and merge into main.
        let review = sup.review(done.id).expect("review");
        let files: Vec<&str> = review.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(files, vec!["bash.txt", "notes/written.txt"]);
        sup.merge(done.id, false).expect("merge");
        assert!(project.join("notes/written.txt").is_file());
    })
    .await;
}
