//! A full disk: the data dir on a tiny tmpfs, in a private mount namespace of a child process
//! (so nothing is mounted for the rest of the machine). The task goes on and ends; the host is
//! told what was not saved (`PersistFailed`); the log ends at a whole line, so its line numbers
//! stay those of the output. Needs root (for the mount); elsewhere it says it skips.

use std::path::PathBuf;
use std::process::Command;

use supervisor::{
    AgentSearch, Event, OutputFormat, ShimProgram, SpawnRequest, Supervisor, SupervisorConfig,
    TaskOptions, TaskStatus,
};
use tasktray_test_support::{bounded, output_of, workspace_bin, Sandbox};

/// Set in the child that runs inside the private mount namespace: the tmpfs to use.
const TMPFS_ENV: &str = "TASKTRAY_TEST_TMPFS";

#[test]
fn a_full_disk_is_reported_and_the_log_keeps_its_numbering() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mounting a tmpfs in a private mount namespace needs root");
        return;
    }
    let sandbox = Sandbox::new();
    let mount_point = sandbox.path().join("small-disk");
    std::fs::create_dir_all(&mount_point).expect("mkdir");
    let script = format!(
        "mount -t tmpfs -o size=512k tasktray-test {dir} && exec {test} --exact \
         inside_a_private_namespace --include-ignored --nocapture --test-threads=1",
        dir = mount_point.display(),
        test = std::env::current_exe().expect("test binary").display(),
    );
    let out = output_of(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .env(TMPFS_ENV, &mount_point)
            .env("TASKTRAY_TEST_PROJECT", sandbox.project("p")),
    );
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed:\n{said}");
    assert!(said.contains("1 passed"), "the child ran no test:\n{said}");
    // Nothing stayed mounted out here.
    assert_eq!(std::fs::read_dir(&mount_point).expect("dir").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_full_disk_is_reported_and_the_log_keeps_its_numbering, in a private mount namespace"]
async fn inside_a_private_namespace() {
    let disk = PathBuf::from(std::env::var_os(TMPFS_ENV).expect("run by the outer test"));
    let project = PathBuf::from(std::env::var_os("TASKTRAY_TEST_PROJECT").expect("project"));
    bounded(async {
        let data = disk.join("data");
        let mut config = SupervisorConfig::new(
            data.clone(),
            AgentSearch {
                explicit: Some(workspace_bin("fake-claude")),
                ..AgentSearch::default()
            },
            ShimProgram {
                program: PathBuf::from(env!("CARGO_BIN_EXE_tasktray-shim")),
            },
        );
        config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
        let sup = Supervisor::start(config, tokio::runtime::Handle::current()).expect("start");
        let mut events = sup.subscribe();
        // ~1.2 MB of output for a 512 KiB disk.
        let id = sup
            .spawn(SpawnRequest {
                name: "floods".into(),
                prompt: "fake: flood 10000 120".into(),
                project_dir: project,
                options: TaskOptions {
                    format: OutputFormat::Text,
                    ..TaskOptions::default()
                },
                follow_up_of: None,
                queue: false,
            })
            .expect("spawn");
        let mut failures = Vec::new();
        loop {
            match events.recv().await.expect("events") {
                Event::PersistFailed { task, message } if task == id => failures.push(message),
                Event::Completed { task } | Event::Failed { task, .. } if task == id => break,
                _ => {}
            }
        }
        assert!(
            failures.iter().any(|m| m.contains("output log")),
            "the full disk was reported: {failures:?}"
        );
        let done = sup.wait(id).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed, "the task went on");
        assert_eq!(done.line_count, 10_001, "every line was counted");

        // The log: whole flood lines, numbered from 0 without a hole; then, if the disk took
        // it, the note that marks what is missing.
        let log = std::fs::read(sup.history().log_path(id)).expect("log");
        let text = String::from_utf8(log).expect("utf-8");
        assert!(text.ends_with('\n'), "the log ends at a whole line");
        let mut lines = text.lines().peekable();
        let mut n = 0;
        while let Some(line) = lines.next_if(|l| !l.starts_with("[tasktray]")) {
            assert_eq!(line.len(), 120, "line {n} is whole");
            assert!(
                line.starts_with(&format!("{n:04} ")),
                "line {n} is {line:.12}…"
            );
            n += 1;
        }
        assert!(n > 0 && n < 10_000, "{n} lines were saved");
        eprintln!("{n} of 10001 lines saved on the full disk; reported: {failures:?}");
        if let Some(note) = lines.next() {
            assert!(note.contains("lines of output were not saved"), "{note}");
        }
        assert_eq!(lines.next(), None);
        sup.shutdown(std::time::Duration::from_secs(5)).await;
    })
    .await;
}
