//! History across restarts: ids continue, records and output reload, crashes become
//! `interrupted` with their leftovers killed, damaged files are skipped, old formats load.

use std::path::Path;
use std::process::Command;

use supervisor::{TaskId, TaskStatus};
use tasktray_test_support::{alive, bounded, wait_until, Sandbox};

use crate::{config, request, run_to_end, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_ids_survive_a_restart() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let a = run_to_end(&sup, request(&sandbox.project("a"), "fake: say from a")).await;
        let b = run_to_end(
            &sup,
            request(&sandbox.project("b"), "fake: result error nope"),
        )
        .await;
        sup.shutdown(std::time::Duration::from_secs(5)).await;
        drop(sup);

        let sup = start(config(&sandbox));
        let all = sup.all();
        assert_eq!(
            all.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![b.id, a.id]
        );
        assert_eq!(sup.get(a.id).expect("a").status, TaskStatus::Completed);
        assert_eq!(sup.get(b.id).expect("b").status, TaskStatus::Failed);
        assert_eq!(sup.get(a.id).expect("a"), a, "the record round-trips");
        assert!(sup
            .output_text(a.id)
            .expect("output from the log")
            .contains("from a"));
        let c = sup
            .spawn(request(&sandbox.project("a"), "x"))
            .expect("spawn");
        assert_eq!(c, TaskId(b.id.0 + 1));
        sup.wait(c).await.expect("wait");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_record_is_skipped_and_the_rest_loads() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let good = run_to_end(&sup, request(&sandbox.project("a"), "fine")).await;
        drop(sup);
        let bad_dir = sandbox.data_dir().join("tasks/77");
        std::fs::create_dir_all(&bad_dir).expect("mkdir");
        std::fs::write(bad_dir.join("task.json"), b"{ not json").expect("write");
        let newer = sandbox.data_dir().join("tasks/78");
        std::fs::create_dir_all(&newer).expect("mkdir");
        std::fs::write(newer.join("task.json"), br#"{"version": 99}"#).expect("write");

        let sup = start(config(&sandbox));
        assert_eq!(
            sup.all().iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![good.id]
        );
        // Ids continue past the damaged ones, never reusing them.
        let next = sup
            .spawn(request(&sandbox.project("b"), "x"))
            .expect("spawn");
        assert_eq!(next, TaskId(79));
        sup.wait(next).await.expect("wait");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_v1_fixture_still_loads() {
    bounded(async {
        let sandbox = Sandbox::new();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
        copy_dir(&fixture, &sandbox.data_dir());
        let sup = start(config(&sandbox));
        let task = sup.get(TaskId(1)).expect("fixture task");
        assert_eq!(task.name, "Fix the login bug");
        assert_eq!(task.status, TaskStatus::Completed);
        assert_eq!(task.result.as_ref().and_then(|r| r.cost_usd), Some(0.0421));
        assert_eq!(
            task.session_id.as_deref(),
            Some("7d1e2b4c-0000-4000-8000-000000000001")
        );
        assert!(sup.output_text(TaskId(1)).expect("log").contains("Fixed"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_left_running_by_a_dead_host_become_interrupted_and_their_processes_die() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let done = run_to_end(&sup, request(&sandbox.project("a"), "x")).await;
        let marker = sup.marker(TaskId(2));
        drop(sup);

        // Forge task 2 as running, owned by a process that is gone, with a leftover process
        // that carries its marker.
        let mut record = done.clone();
        record.id = TaskId(2);
        record.status = TaskStatus::Running;
        record.finished_at_ms = None;
        record.owner = Some(supervisor::ProcessRef {
            pid: std::process::id() as i32,
            start_ticks: 1,
        });
        let dir = sandbox.data_dir().join("tasks/2");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let json = serde_json::json!({"version": 1});
        let mut value = serde_json::to_value(&record).expect("encode");
        value
            .as_object_mut()
            .expect("object")
            .insert("version".into(), json["version"].clone());
        std::fs::write(dir.join("task.json"), value.to_string()).expect("write");
        let mut leftover = Command::new("sleep")
            .arg("60")
            .env(supervisor::MARKER_ENV, &marker)
            .spawn()
            .expect("sleep");
        let pid = leftover.id() as i32;

        let sup = start(config(&sandbox));
        let task = sup.get(TaskId(2)).expect("task 2");
        assert_eq!(task.status, TaskStatus::Interrupted);
        assert!(task.error.is_some());
        let _ = leftover.wait();
        assert!(wait_until(std::time::Duration::from_secs(5), || !alive(
            pid
        )));
        // Persisted, not only in memory.
        assert_eq!(
            sup.history().load(TaskId(2)).expect("load").status,
            TaskStatus::Interrupted
        );
    })
    .await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
