//! The history's index: pages, filters and search read from it; it is rebuilt when missing or
//! damaged and caught up with folders it does not know; memory holds only what is active.

use std::path::Path;
use std::time::Duration;

use supervisor::{
    History, ResultSummary, TaskId, TaskOptions, TaskQuery, TaskRecord, TaskStatus, KEPT_RINGS,
};
use tasktray_test_support::{bounded, wait_until_async, Sandbox};

use crate::{config, request, run_to_end, start};

/// How long a task takes to leave memory once it has finished.
const PATIENCE: Duration = Duration::from_secs(10);

/// A finished record as a host saves it.
fn record(id: TaskId, project: &Path, name: &str, prompt: &str, result: &str) -> TaskRecord {
    TaskRecord {
        id,
        name: name.into(),
        prompt: prompt.into(),
        project_dir: project.to_path_buf(),
        options: TaskOptions::default(),
        status: if id.0.is_multiple_of(3) {
            TaskStatus::Failed
        } else {
            TaskStatus::Completed
        },
        created_at_ms: 1_000 + id.0,
        started_at_ms: Some(1_000 + id.0),
        finished_at_ms: Some(2_000 + id.0),
        exit: None,
        error: None,
        failure: None,
        result: Some(ResultSummary {
            text: result.into(),
            ..ResultSummary::default()
        }),
        session_id: None,
        follow_up_of: None,
        owner: None,
        shim: None,
        line_count: 0,
        worktree: None,
    }
}

/// Saves `count` finished tasks through the history, as hosts do; task 7 is about Zeppelins.
fn fill(history: &History, project: &Path, count: u64) -> Vec<TaskId> {
    (0..count)
        .map(|_| {
            let id = history.allocate_id().expect("id");
            let (name, prompt, result) = match id.0 {
                7 => ("Airships", "Compare the ZEPPELIN designs", "Done"),
                9 => (
                    "Fix login",
                    "The login page",
                    "Found the bug in the zeppelin module",
                ),
                _ => ("Routine", "Tidy the code", "Done"),
            };
            history
                .save(&record(id, project, name, prompt, result))
                .expect("save");
            id
        })
        .collect()
}

fn ids(tasks: &[TaskRecord]) -> Vec<u64> {
    tasks.iter().map(|t| t.id.0).collect()
}

#[test]
fn pages_come_newest_first_with_a_cursor_and_the_total() {
    let sandbox = Sandbox::new();
    let history = History::open(&sandbox.data_dir()).expect("history");
    fill(&history, &sandbox.project("p"), 120);

    let first = history
        .list(&TaskQuery {
            limit: Some(50),
            ..TaskQuery::default()
        })
        .expect("page 1");
    assert_eq!(first.total, 120);
    assert_eq!(ids(&first.tasks), (71..=120).rev().collect::<Vec<_>>());
    assert_eq!(first.next_cursor, Some(TaskId(71)));

    let mut query = TaskQuery {
        limit: Some(50),
        before: first.next_cursor,
        ..TaskQuery::default()
    };
    let second = history.list(&query).expect("page 2");
    assert_eq!(ids(&second.tasks), (21..=70).rev().collect::<Vec<_>>());
    query.before = second.next_cursor;
    let last = history.list(&query).expect("page 3");
    assert_eq!(ids(&last.tasks), (1..=20).rev().collect::<Vec<_>>());
    assert_eq!(last.next_cursor, None, "the last page says so");
    assert_eq!(last.total, 120, "the total counts every page");

    // A status filter, and the default and largest page sizes.
    let failed = history
        .list(&TaskQuery {
            status: vec![TaskStatus::Failed],
            limit: Some(5000),
            ..TaskQuery::default()
        })
        .expect("failed ones");
    assert_eq!(failed.total, 40);
    assert!(failed.tasks.iter().all(|t| t.status == TaskStatus::Failed));
    assert_eq!(failed.tasks.len(), 40);
    let default = history.list(&TaskQuery::default()).expect("default page");
    assert_eq!(default.tasks.len(), supervisor::DEFAULT_PAGE as usize);
}

#[test]
fn search_looks_in_name_prompt_project_and_result_ignoring_case() {
    let sandbox = Sandbox::new();
    let history = History::open(&sandbox.data_dir()).expect("history");
    fill(&history, &sandbox.project("p"), 12);
    let other = sandbox.project("Other-Repo");
    let id = history.allocate_id().expect("id");
    history
        .save(&record(id, &other, "Routine", "Tidy", "Done"))
        .expect("save");

    let search = |text: &str| {
        let page = history
            .list(&TaskQuery {
                search: Some(text.into()),
                ..TaskQuery::default()
            })
            .expect("search");
        assert_eq!(page.total as usize, page.tasks.len());
        ids(&page.tasks)
    };
    // The prompt of 7 (upper case) and the result of 9.
    assert_eq!(search("zeppelin"), vec![9, 7]);
    assert_eq!(search("Zeppelin"), vec![9, 7]);
    // Every word must appear, in any order.
    assert_eq!(search("designs zeppelin"), vec![7]);
    assert_eq!(search("zeppelin nowhere"), Vec::<u64>::new());
    // The name, and the project folder.
    assert_eq!(search("login"), vec![9]);
    assert_eq!(search("other-repo"), vec![id.0]);
    // Characters that mean something to SQL are plain text.
    assert_eq!(search("%"), Vec::<u64>::new());
    assert_eq!(search("_'\""), Vec::<u64>::new());
    // A blank search is no search.
    assert_eq!(search("   ").len(), 13);
}

#[test]
fn a_lost_or_damaged_index_is_rebuilt_from_the_task_folders() {
    let sandbox = Sandbox::new();
    let data = sandbox.data_dir();
    let history = History::open(&data).expect("history");
    fill(&history, &sandbox.project("p"), 30);
    drop(history);

    std::fs::remove_file(data.join("index.sqlite")).expect("remove the index");
    let history = History::open(&data).expect("history without an index");
    assert_eq!(history.len().expect("len"), 30, "rebuilt from the folders");
    drop(history);

    // Garbage where the index was (a disk error, another program).
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("index.sqlite{suffix}")));
    }
    std::fs::write(data.join("index.sqlite"), vec![0x5a; 8192]).expect("damage it");
    let history = History::open(&data).expect("history with a damaged index");
    assert_eq!(history.len().expect("len"), 30, "rebuilt again");
    let page = history
        .list(&TaskQuery {
            search: Some("zeppelin".into()),
            ..TaskQuery::default()
        })
        .expect("search after the rebuild");
    assert_eq!(ids(&page.tasks), vec![9, 7]);
}

#[test]
fn reconcile_catches_up_with_folders_written_without_the_index() {
    let sandbox = Sandbox::new();
    let data = sandbox.data_dir();
    let project = sandbox.project("p");
    let history = History::open(&data).expect("history");
    let made = fill(&history, &project, 5);

    // An older Tasktray (or a crash between the two writes) changed a record, added one and
    // removed one without touching the index.
    let write = |record: &TaskRecord| {
        let mut json = serde_json::to_value(record).expect("json");
        json["version"] = supervisor::FORMAT_VERSION.into();
        let dir = data.join("tasks").join(record.id.to_string());
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("task.json"), json.to_string()).expect("write");
    };
    let mut changed = history.load(made[1]).expect("load");
    changed.name = "Renamed elsewhere".into();
    write(&changed);
    write(&record(TaskId(6), &project, "Added elsewhere", "x", "y"));
    std::fs::remove_dir_all(data.join("tasks").join(made[0].to_string())).expect("rm");
    assert_eq!(
        history.len().expect("len"),
        5,
        "the index does not know yet"
    );

    assert_eq!(history.reconcile().expect("reconcile"), 3);
    let all = history.list_all(&TaskQuery::default()).expect("all");
    assert_eq!(ids(&all), vec![6, 5, 4, 3, 2]);
    assert_eq!(all[4].name, "Renamed elsewhere");
    assert_eq!(history.reconcile().expect("again"), 0, "nothing left to do");
    // The id counter moved past the folder it did not count.
    assert_eq!(history.allocate_id().expect("id"), TaskId(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_holds_the_active_tasks_and_reads_the_rest_from_the_history() {
    bounded(async {
        let sandbox = Sandbox::new();
        let history = History::open(&sandbox.data_dir()).expect("history");
        let old = fill(&history, &sandbox.project("old"), 200);
        drop(history);

        let sup = start(config(&sandbox));
        assert_eq!(sup.held(), 0, "a finished history is not loaded at start");
        // Any task still reads, lists and searches.
        assert_eq!(sup.get(old[6]).expect("task 7").name, "Airships");
        let page = sup
            .list(&TaskQuery {
                search: Some("zeppelin".into()),
                ..TaskQuery::default()
            })
            .expect("search");
        assert_eq!(ids(&page.tasks), vec![9, 7]);

        // Tasks that finish here stay in memory up to the kept ones, then leave it.
        let project = sandbox.project("new");
        let mut finished = Vec::new();
        for _ in 0..KEPT_RINGS + 5 {
            finished.push(run_to_end(&sup, request(&project, "fake: say hi")).await.id);
        }
        // The last one leaves its runner (and takes its place among the kept) just after
        // its final status, which is what `wait` returns on.
        assert!(
            wait_until_async(PATIENCE, || sup.held() <= KEPT_RINGS).await,
            "{} tasks held after {} finished",
            sup.held(),
            finished.len()
        );
        // One that left memory is still whole, with its output.
        let first = sup.get(finished[0]).expect("the first new task");
        assert_eq!(first.status, TaskStatus::Completed);
        let attached = sup.attach(finished[0]).expect("attach");
        assert!(
            attached.snapshot.iter().any(|l| l.text.contains("hi")),
            "its output came back from the log"
        );
        assert_eq!(sup.all().len(), 200 + finished.len());
        // Removing a task that is not held works too.
        sup.cleanup(old[0]).expect("cleanup");
        assert!(sup.get(old[0]).is_none());
        assert_eq!(
            sup.list(&TaskQuery::default()).expect("list").total,
            199 + finished.len() as u64
        );
        sup.shutdown(std::time::Duration::from_secs(5)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_newer_than_the_index_is_listed_and_counted_as_it_is_now() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let project = sandbox.project("p");
        let id = sup
            .spawn(request(&project, "fake: say ready; wait-message"))
            .expect("spawn");
        assert!(
            wait_until_async(PATIENCE, || sup
                .output_text(id)
                .is_ok_and(|t| t.contains("ready")))
            .await,
            "the task never ran"
        );
        let now = sup.get(id).expect("task").status;
        assert!(now.is_running(), "{now:?}");
        // The index a moment behind: its row still says pending (as between a status change
        // in memory and its save).
        let mut behind = sup.get(id).expect("task");
        behind.status = TaskStatus::Pending;
        History::open(&sandbox.data_dir())
            .expect("history")
            .save(&behind)
            .expect("save");
        let query = |status: TaskStatus| TaskQuery {
            status: vec![status],
            ..TaskQuery::default()
        };
        let listed = sup.list(&query(now)).expect("list");
        assert_eq!(ids(&listed.tasks), vec![id.0]);
        assert_eq!(listed.total, 1);
        let pending = sup.list(&query(TaskStatus::Pending)).expect("list");
        assert!(pending.tasks.is_empty(), "{:?}", ids(&pending.tasks));
        assert_eq!(pending.total, 0);
        sup.send(id, "done").expect("send");
        sup.wait(id).await.expect("wait");
    })
    .await;
}
