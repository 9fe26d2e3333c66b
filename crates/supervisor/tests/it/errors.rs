//! Bad input gets a clear typed error; internal failures make the task `failed` with the
//! reason in its output. Nothing panics, hangs or is left running.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use supervisor::{AgentSearch, Error, ShimProgram, Stream, TaskStatus, MAX_PROMPT_ARG_BYTES};
use tasktray_test_support::{bounded, Sandbox};

use crate::{config, request, run_to_end, start, text_request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_clear_errors() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let file = sandbox.path().join("a-file");
        std::fs::write(&file, "x").expect("write");

        let cases: Vec<(supervisor::SpawnRequest, &str, &str)> = vec![
            (request(&project, "  \n "), "EmptyPrompt", "prompt is empty"),
            (request(&project, "a\0b"), "InvalidPrompt", "NUL"),
            (
                request(&sandbox.path().join("missing"), "x"),
                "InvalidProjectDir",
                "does not exist",
            ),
            (
                request(&file, "x"),
                "InvalidProjectDir",
                "is a file, not a folder",
            ),
            (
                request(&PathBuf::from("relative/dir"), "x"),
                "InvalidProjectDir",
                "absolute path",
            ),
        ];
        for (req, code, text) in cases {
            let err = sup.spawn(req).expect_err("refused");
            assert_eq!(err.code(), code, "{err}");
            assert!(err.to_string().contains(text), "{err}");
        }
        assert!(
            sup.all().is_empty(),
            "refused requests leave no task behind"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unusable_agent_is_reported() {
    bounded(async {
        let sandbox = Sandbox::new();
        let project = sandbox.project("p");

        let mut missing = config(&sandbox);
        missing.agent = AgentSearch {
            path_var: Some(sandbox.path().join("empty-bin").into_os_string()),
            home: Some(sandbox.path().to_path_buf()),
            ..AgentSearch::default()
        };
        let sup = start(missing);
        let err = sup.spawn(request(&project, "x")).expect_err("no agent");
        assert!(matches!(err, Error::AgentNotFound { .. }), "{err}");
        assert!(err
            .to_string()
            .contains("npm install -g @anthropic-ai/claude-code"));
        drop(sup);

        let plain = sandbox.path().join("not-executable");
        std::fs::write(&plain, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut not_exec = config(&sandbox);
        not_exec.agent = AgentSearch {
            explicit: Some(plain),
            ..AgentSearch::default()
        };
        let sup = start(not_exec);
        let err = sup
            .spawn(request(&project, "x"))
            .expect_err("not executable");
        assert_eq!(err.code(), "AgentNotFound");
        assert!(matches!(err, Error::AgentNotExecutable { .. }), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_cannot_run_fails_the_task_with_the_reason_in_its_output() {
    bounded(async {
        let sandbox = Sandbox::new();
        let project = sandbox.project("p");
        // Executable but not runnable: an interpreter that does not exist.
        let broken = sandbox.path().join("broken-agent");
        std::fs::write(&broken, "#!/nonexistent/interpreter\n").expect("write");
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut cfg = config(&sandbox);
        cfg.agent = AgentSearch {
            explicit: Some(broken),
            ..AgentSearch::default()
        };
        let sup = start(cfg);
        let done = run_to_end(&sup, request(&project, "x")).await;
        assert_eq!(done.status, TaskStatus::Failed);
        let output = sup.output_text(done.id).expect("output");
        assert!(output.contains("cannot start the agent"), "{output}");

        // The shim itself cannot start: the task fails, it does not hang.
        let mut cfg = config(&sandbox);
        cfg.shim = ShimProgram {
            program: sandbox.path().join("no-such-shim"),
        };
        let sup = start(cfg);
        let done = run_to_end(&sup, request(&sandbox.project("q"), "x")).await;
        assert_eq!(done.status, TaskStatus::Failed);
        assert!(
            done.error
                .as_deref()
                .is_some_and(|e| e.contains("could not start the task")),
            "{done:?}"
        );
        let lines = sup.attach(done.id).expect("attach").snapshot;
        assert!(lines.iter().any(|l| l.stream == Stream::Tasktray));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_data_dir_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let mut cfg = config(&sandbox);
    cfg.data_dir = file.join("data");
    let err = supervisor::Supervisor::start(cfg, tokio::runtime::Handle::current())
        .expect_err("unusable");
    assert_eq!(err.code(), "DataDir");
    assert!(err.to_string().contains("is not usable"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_reach_the_agent_intact() {
    bounded(async {
        let sandbox = Sandbox::new();
        let record = sandbox.path().join("record.jsonl");
        let mut cfg = config(&sandbox);
        cfg.extra_env
            .push(("FAKE_CLAUDE_RECORD".into(), record.clone().into_os_string()));
        let sup = start(cfg);
        let project = sandbox.project("p");
        let big = format!("-start {}", "y".repeat(MAX_PROMPT_ARG_BYTES * 3));
        let prompts = [
            "--dangerous looking prompt".to_owned(),
            "line one\nline \"two\" with 'quotes' and $HOME and `ticks`".to_owned(),
            big,
        ];
        // Two-way tasks: the prompt is the first user message, whatever its size.
        for prompt in &prompts {
            let done = run_to_end(&sup, request(&project, prompt)).await;
            assert_eq!(
                done.status,
                TaskStatus::Completed,
                "{}",
                sup.output_text(done.id).unwrap_or_default()
            );
            assert_eq!(
                &done.result.expect("result").text,
                prompt,
                "the agent echoes its prompt"
            );
        }
        // Text tasks: an argument, or stdin from a file when it is long or looks like a flag.
        for prompt in &prompts {
            let done = run_to_end(&sup, text_request(&project, prompt)).await;
            assert_eq!(done.status, TaskStatus::Completed);
            assert_eq!(sup.log_text(done.id).expect("log").trim_end(), prompt);
        }
        let recorded: Vec<serde_json::Value> = std::fs::read_to_string(&record)
            .expect("record")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        let starts: Vec<&serde_json::Value> = recorded
            .iter()
            .filter(|r| r.get("argv").is_some())
            .collect();
        assert_eq!(starts.len(), 6, "one start per task");
        let messages: Vec<&str> = recorded
            .iter()
            .filter(|r| r["stdin"]["type"] == "user")
            .filter_map(|r| r["stdin"]["message"]["content"].as_str())
            .collect();
        assert_eq!(
            messages,
            prompts.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for start in &starts {
            assert!(
                start["env_TASKTRAY"]["TASKTRAY_TASK"].is_string(),
                "{start}"
            );
        }
        for (start, prompt) in starts[3..].iter().zip(&prompts) {
            assert_eq!(start["prompt"].as_str(), Some(prompt.as_str()));
            assert_eq!(
                start["stdin_is_pipe"], false,
                "a text task's stdin is never left an open pipe"
            );
        }
        assert_eq!(
            starts[3]["prompt_from_stdin"], true,
            "a leading dash goes through stdin"
        );
        assert_eq!(starts[4]["prompt_from_stdin"], false);
        assert_eq!(
            starts[5]["prompt_from_stdin"], true,
            "a long prompt goes through stdin"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_own_refusal_is_shown_not_hidden() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: the agent refuses bypassPermissions only when run as root");
        return;
    }
    bounded(async {
        let sandbox = Sandbox::new();
        let mut cfg = config(&sandbox);
        cfg.extra_env.retain(|(k, _)| k != "IS_SANDBOX");
        let sup = start(cfg);
        let mut bypass = request(&sandbox.project("p"), "hi");
        bypass.options.permission_mode = supervisor::PermissionMode::BypassPermissions;
        let done = run_to_end(&sup, bypass).await;
        assert_eq!(done.status, TaskStatus::Failed);
        let output = sup.output_text(done.id).expect("output");
        assert!(
            output.contains("cannot be used with root/sudo privileges"),
            "{output}"
        );
        assert!(
            output.contains("[tasktray] The agent exited with code 1"),
            "{output}"
        );
        // The reason says what to do, in the record the app and its notification show.
        let failure = done.failure.expect("a failure reason");
        assert!(
            failure.contains("Choose another permission mode"),
            "{failure}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_spawn_uses_up_no_task_id() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let first = sup
            .spawn(request(&project, "fake: say ready; wait-message"))
            .expect("spawn");
        for _ in 0..3 {
            assert!(matches!(
                sup.spawn(request(&project, "fake: say busy")),
                Err(Error::ProjectBusy { task_id, .. }) if task_id == first
            ));
            assert!(matches!(
                sup.spawn(request(&sandbox.path().join("missing"), "fake: say no")),
                Err(Error::ProjectDirMissing { .. })
            ));
        }
        let next = sup
            .spawn(request(&sandbox.project("q"), "fake: say next"))
            .expect("spawn");
        assert_eq!(next.0, first.0 + 1, "ids follow each other");
        sup.send(first, "go on").expect("send");
        sup.wait(first).await.expect("wait");
        sup.wait(next).await.expect("wait");
    })
    .await;
}
