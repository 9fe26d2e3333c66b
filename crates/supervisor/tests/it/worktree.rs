//! Tasks in git worktrees of their own: several at once in one repository, their leftovers
//! committed, reviewed, merged (fast-forward, merge commit, squash), kept or discarded, and
//! every refusal leaving the repository as it was.

use std::fs;
use std::path::Path;
use std::time::Duration;

use supervisor::{
    Error, MergeKind, SpawnRequest, Supervisor, TaskId, TaskRecord, TaskStatus, WorktreeState,
};
use tasktray_test_support::{bounded, git, git_repo, wait_until_async, Sandbox};

use crate::{config, request, start, text_request};

const PATIENCE: Duration = Duration::from_secs(20);

/// A one-way task in a worktree of its own that runs `script` (fake-claude directives).
fn in_worktree(project: &Path, name: &str, script: &str) -> SpawnRequest {
    let mut req = text_request(project, &format!("fake: {script}"));
    req.name = name.to_owned();
    req.options.worktree = true;
    req
}

async fn finished(sup: &Supervisor, req: SpawnRequest) -> TaskRecord {
    let id = sup.spawn(req).expect("spawn");
    let record = sup.wait(id).await.expect("wait");
    assert_eq!(
        record.status,
        TaskStatus::Completed,
        "task {id}: {:?}",
        record.failure
    );
    record
}

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn status_of(dir: &Path) -> String {
    git(dir, &["status", "--porcelain", "--untracked-files=all"])
}

fn branch_exists(repo: &Path, branch: &str) -> bool {
    !git(repo, &["branch", "--list", branch]).trim().is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worktree_tasks_and_one_in_the_main_folder_run_at_once_and_both_merge() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        let start_commit = head(&repo);
        // Two-way tasks that write their file, then wait for a message.
        let held = |name: &str, file: &str| {
            let mut req = request(
                &repo,
                &format!("fake: tool echo {name} > {file}; say {name} runs; wait-message"),
            );
            req.name = name.to_owned();
            req.options.worktree = true;
            req
        };
        let a = sup.spawn(held("alpha", "a.txt")).expect("spawn a");
        let b = sup.spawn(held("beta", "b.txt")).expect("spawn b");
        let main = sup
            .spawn(request(&repo, "fake: say main runs; wait-message"))
            .expect("a task in the main folder runs beside the worktree tasks");
        for (id, word) in [(a, "alpha runs"), (b, "beta runs"), (main, "main runs")] {
            assert!(
                wait_until_async(PATIENCE, || sup
                    .output_text(id)
                    .is_ok_and(|t| t.contains(word)))
                .await,
                "task {id} did not run: {:?}",
                sup.get(id).map(|r| r.status)
            );
        }
        let wa = sup.get(a).and_then(|r| r.worktree).expect("a's worktree");
        let wb = sup.get(b).and_then(|r| r.worktree).expect("b's worktree");
        assert_ne!(wa.path, wb.path);
        assert!(wa.path.starts_with(sandbox.data_dir()), "{:?}", wa.path);
        assert_eq!(wa.base_branch.as_deref(), Some("main"));
        assert_eq!(wa.base_commit, start_commit);
        assert!(wa.branch.starts_with(&format!("tasktray/{a}-alpha")));
        assert_eq!(fs::read_to_string(wa.dir.join("a.txt")).unwrap(), "alpha\n");
        assert!(
            !repo.join("a.txt").exists(),
            "the agent wrote into the main folder"
        );
        assert_eq!(status_of(&repo), "", "the main folder was touched");

        for id in [a, b, main] {
            sup.send(id, "done").expect("send");
            assert_eq!(
                sup.wait(id).await.expect("wait").status,
                TaskStatus::Completed
            );
        }
        // The leftovers were committed with the user's identity.
        let log = git(
            &repo,
            &[
                "log",
                "-1",
                "--format=%an|%s",
                &format!("refs/heads/{}", wa.branch),
            ],
        );
        assert_eq!(log.trim(), format!("Test User|Task #{a}: alpha"));
        let review = sup.review(a).expect("review");
        assert_eq!(review.files.len(), 1);
        assert_eq!(review.files[0].path, "a.txt");
        assert_eq!(
            (review.files[0].added, review.files[0].removed),
            (Some(1), Some(0))
        );
        assert!(review.files[0].patch.as_deref().unwrap().contains("+alpha"));
        assert_eq!(review.commits.len(), 1);
        assert!(!review.merged && !review.uncommitted);

        let first = sup.merge(a, false).expect("merge a");
        assert_eq!(first.kind, MergeKind::FastForward);
        let second = sup.merge(b, false).expect("merge b");
        assert_eq!(second.kind, MergeKind::MergeCommit);
        assert_eq!(second.commit, head(&repo));
        assert_eq!(fs::read_to_string(repo.join("a.txt")).unwrap(), "alpha\n");
        assert_eq!(fs::read_to_string(repo.join("b.txt")).unwrap(), "beta\n");
        assert_eq!(status_of(&repo), "");
        assert_eq!(
            sup.get(a)
                .and_then(|r| r.worktree)
                .map(|w| (w.state, w.merged_into)),
            Some((WorktreeState::Merged, Some("main".to_owned())))
        );
        // Merged work goes without a question, and the task can then be removed.
        assert!(matches!(sup.cleanup(a), Err(Error::WorktreeOpen { .. })));
        sup.discard(a, false).expect("discard a merged task");
        assert!(!wa.path.exists());
        // Removed, and still known as merged.
        assert_eq!(
            sup.get(a)
                .and_then(|r| r.worktree)
                .map(|w| (w.state, w.merged_into)),
            Some((WorktreeState::Discarded, Some("main".to_owned())))
        );
        assert!(!branch_exists(&repo, &wa.branch));
        sup.cleanup(a).expect("remove the task");
        sup.discard(b, false).expect("discard b");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_merge_is_refused_and_leaves_the_repository_as_it_was() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        let one = finished(&sup, in_worktree(&repo, "one", "tool echo one > README.md")).await;
        let two = finished(&sup, in_worktree(&repo, "two", "tool echo two > README.md")).await;
        sup.merge(one.id, false).expect("the first merge");
        let before = head(&repo);
        match sup.merge(two.id, false) {
            Err(Error::MergeConflict { files, .. }) => assert_eq!(files, vec!["README.md"]),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(head(&repo), before, "HEAD moved");
        assert_eq!(status_of(&repo), "", "the main folder was touched");
        assert!(!repo.join(".git/MERGE_HEAD").exists());
        assert_eq!(fs::read_to_string(repo.join("README.md")).unwrap(), "one\n");
        // The same with a squash.
        assert!(matches!(
            sup.merge(two.id, true),
            Err(Error::MergeConflict { .. })
        ));
        assert_eq!(head(&repo), before);
        assert_eq!(status_of(&repo), "");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_refuses_unmerged_work_without_force_and_takes_a_squash_merged_branch() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        let task = finished(&sup, in_worktree(&repo, "work", "tool echo work > w.txt")).await;
        let worktree = task.worktree.clone().expect("worktree");
        match sup.discard(task.id, false) {
            Err(Error::UnmergedWork {
                commits,
                uncommitted,
                ..
            }) => assert_eq!((commits, uncommitted), (1, false)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(worktree.path.is_dir() && branch_exists(&repo, &worktree.branch));
        // Uncommitted work in the worktree counts too.
        fs::write(worktree.dir.join("extra.txt"), "mine").unwrap();
        assert!(matches!(
            sup.discard(task.id, false),
            Err(Error::UnmergedWork {
                uncommitted: true,
                ..
            })
        ));
        fs::remove_file(worktree.dir.join("extra.txt")).unwrap();

        let squashed = sup.merge(task.id, true).expect("squash merge");
        assert_eq!(squashed.kind, MergeKind::Squash);
        assert_eq!(
            git(&repo, &["log", "-1", "--format=%s"]).trim(),
            format!("Task #{}: work", task.id)
        );
        // The main branch moves on; the branch's commit is on no other branch, but its change
        // is in main: merged.
        fs::write(repo.join("later.txt"), "later").unwrap();
        git(&repo, &["add", "later.txt"]);
        git(&repo, &["commit", "--quiet", "-m", "later"]);
        sup.discard(task.id, false)
            .expect("a squash-merged branch is discarded without force");
        assert!(!worktree.path.exists());
        assert!(!branch_exists(&repo, &worktree.branch));
        assert!(
            !git(&repo, &["worktree", "list", "--porcelain"])
                .contains(&worktree.path.display().to_string()),
            "the worktree is still registered"
        );

        // With force, unmerged work goes.
        let other = finished(&sup, in_worktree(&repo, "other", "tool echo x > x.txt")).await;
        let ow = other.worktree.clone().expect("worktree");
        sup.discard(other.id, true).expect("discard with force");
        assert!(!ow.path.exists() && !branch_exists(&repo, &ow.branch));
        assert_eq!(
            sup.get(other.id).and_then(|r| r.worktree).map(|w| w.state),
            Some(WorktreeState::Discarded)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_outside_a_repository_is_refused_before_it_takes_an_id() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let plain = sandbox.project("plain");
        let next = sup.history().peek_next_id();
        match sup.spawn(in_worktree(&plain, "x", "say hi")) {
            Err(e @ Error::NotARepository { .. }) => {
                assert_eq!(e.code(), "NotARepository");
                assert!(e.to_string().contains("not in a git repository"), "{e}");
            }
            other => panic!("expected NotARepository, got {other:?}"),
        }
        assert!(matches!(
            sup.repo_head(&plain),
            Err(Error::NotARepository { .. })
        ));
        // A repository without a commit has no HEAD to start from.
        let empty = sandbox.project("empty");
        git(&empty, &["init", "--quiet"]);
        assert!(matches!(
            sup.spawn(in_worktree(&empty, "x", "say hi")),
            Err(Error::NoCommits { .. })
        ));
        assert_eq!(
            sup.history().peek_next_id(),
            next,
            "a refused task took an id"
        );
        assert!(sup.list(&Default::default()).unwrap().tasks.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_head_runs_and_its_branch_can_be_kept_but_not_merged() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        git(&repo, &["checkout", "--quiet", "--detach"]);
        let at = sup.repo_head(&repo).expect("repo head");
        assert_eq!((at.branch.as_deref(), at.dirty), (None, false));
        let task = finished(&sup, in_worktree(&repo, "d", "tool echo d > d.txt")).await;
        let worktree = task.worktree.clone().expect("worktree");
        assert_eq!(worktree.base_branch, None);
        let before = head(&repo);
        match sup.merge(task.id, false) {
            Err(e @ Error::NoBaseBranch { .. }) => {
                assert!(e.to_string().contains(&worktree.branch), "{e}")
            }
            other => panic!("expected NoBaseBranch, got {other:?}"),
        }
        assert_eq!(head(&repo), before);
        sup.keep_branch(task.id).expect("keep the branch");
        assert!(!worktree.path.exists());
        assert!(branch_exists(&repo, &worktree.branch));
        assert_eq!(
            git(&repo, &["show", &format!("{}:d.txt", worktree.branch)]),
            "d\n"
        );
        assert!(matches!(
            sup.merge(task.id, false),
            Err(Error::WorktreeGone { .. })
        ));
        sup.cleanup(task.id)
            .expect("a kept branch's task can be removed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncommitted_changes_in_the_main_folder_block_only_a_merge_that_touches_them() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        let edits = finished(
            &sup,
            in_worktree(&repo, "edit", "tool echo task > README.md"),
        )
        .await;
        let adds = finished(&sup, in_worktree(&repo, "add", "tool echo new > new.txt")).await;
        fs::write(repo.join("README.md"), "the user's edit\n").unwrap();
        fs::write(repo.join("scratch.txt"), "untracked\n").unwrap();
        let at = sup.repo_head(&repo).expect("repo head");
        assert!(at.dirty);
        let before = head(&repo);
        match sup.merge(edits.id, false) {
            Err(Error::MainFolderDirty { files, .. }) => assert_eq!(files, vec!["README.md"]),
            other => panic!("expected MainFolderDirty, got {other:?}"),
        }
        assert_eq!(head(&repo), before);
        assert_eq!(
            fs::read_to_string(repo.join("README.md")).unwrap(),
            "the user's edit\n"
        );
        // A merge that does not touch them goes through and keeps them.
        assert_eq!(
            sup.merge(adds.id, false).expect("merge").kind,
            MergeKind::FastForward
        );
        assert_eq!(
            fs::read_to_string(repo.join("README.md")).unwrap(),
            "the user's edit\n"
        );
        assert_eq!(fs::read_to_string(repo.join("new.txt")).unwrap(), "new\n");
        assert!(repo.join("scratch.txt").exists());
        // The main folder on another branch: refused, saying which.
        git(&repo, &["stash", "--quiet", "--include-untracked"]);
        git(&repo, &["checkout", "--quiet", "-b", "elsewhere"]);
        match sup.merge(edits.id, false) {
            Err(e @ Error::WrongBranch { .. }) => {
                assert!(e.to_string().contains("elsewhere"), "{e}")
            }
            other => panic!("expected WrongBranch, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subfolder_of_a_repository_whose_path_has_spaces() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("my repo"));
        let sub = repo.join("sub dir");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join("keep.txt"), "k\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "--quiet", "-m", "sub"]);
        // stream-json, whose tool results show what `pwd` printed.
        let mut spaced = request(&sub, "fake: tool pwd; tool echo s > s.txt");
        spaced.options.worktree = true;
        let task = finished(&sup, spaced).await;
        let worktree = task.worktree.clone().expect("worktree");
        assert_eq!(worktree.dir, worktree.path.join("sub dir"));
        assert_eq!(worktree.repo, fs::canonicalize(&repo).unwrap());
        assert!(
            sup.output_text(task.id)
                .unwrap()
                .contains(&worktree.dir.display().to_string()),
            "the agent did not run in the worktree's subfolder"
        );
        let review = sup.review(task.id).expect("review");
        assert_eq!(review.files[0].path, "sub dir/s.txt");
        assert!(sup
            .diff(task.id, None, true)
            .expect("stat")
            .contains("sub dir/s.txt"));
        sup.merge(task.id, false).expect("merge");
        assert_eq!(fs::read_to_string(sub.join("s.txt")).unwrap(), "s\n");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_goes_on_in_the_same_worktree() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        let mut first = request(&repo, "fake: tool echo 1 > one.txt");
        first.options.worktree = true;
        first.options.keep_session = true;
        let first = finished(&sup, first).await;
        let worktree = first.worktree.clone().expect("worktree");
        let next = sup
            .follow_up(first.id, "fake: tool echo 2 > two.txt".into())
            .expect("follow up");
        let done = sup.wait(next).await.expect("wait");
        assert_eq!(done.status, TaskStatus::Completed, "{:?}", done.failure);
        let continued = done.worktree.clone().expect("the follow-up's worktree");
        assert_eq!(
            (&continued.path, &continued.branch),
            (&worktree.path, &worktree.branch)
        );
        assert!(worktree.dir.join("two.txt").exists());
        // The first task hands its worktree on: actions go through the follow-up.
        assert_eq!(
            sup.get(first.id)
                .and_then(|r| r.worktree)
                .and_then(|w| w.continued_by),
            Some(next)
        );
        assert!(matches!(
            sup.merge(first.id, false),
            Err(Error::WorktreeMoved { to, .. }) if to == next
        ));
        let review = sup.review(next).expect("review");
        assert_eq!(review.commits.len(), 2);
        sup.merge(next, false).expect("merge");
        sup.discard(next, false).expect("discard");
        // The state went back to the first task too, which can now be removed.
        assert_eq!(
            sup.get(first.id).and_then(|r| r.worktree).map(|w| w.state),
            Some(WorktreeState::Discarded)
        );
        sup.cleanup(first.id).expect("remove the first task");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_whose_task_is_gone_is_reported_and_kept() {
    bounded(async {
        let sandbox = Sandbox::new();
        let repo = git_repo(&sandbox.project("repo"));
        let id: TaskId;
        let path;
        {
            let sup = start(config(&sandbox));
            let task = finished(&sup, in_worktree(&repo, "lost", "tool echo l > l.txt")).await;
            id = task.id;
            path = task.worktree.expect("worktree").path;
            assert!(sup.stray_worktrees().is_empty());
        }
        // The task's folder is deleted behind Tasktray's back.
        fs::remove_dir_all(sandbox.data_dir().join("tasks").join(id.to_string())).unwrap();
        let sup = start(config(&sandbox));
        let strays = sup.stray_worktrees();
        assert_eq!(strays.len(), 1, "{strays:?}");
        assert_eq!(strays[0].path, path);
        assert!(strays[0]
            .branch
            .as_deref()
            .is_some_and(|b| b.starts_with(&format!("tasktray/{id}-lost"))));
        assert!(path.join("l.txt").exists(), "a stray worktree was removed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_git_identity_the_end_of_task_commit_still_happens() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        git(&repo, &["config", "--unset", "user.name"]);
        git(&repo, &["config", "--unset", "user.email"]);
        let task = finished(&sup, in_worktree(&repo, "anon", "tool echo a > a.txt")).await;
        let worktree = task.worktree.expect("worktree");
        assert_eq!(worktree.note, None);
        assert_eq!(
            status_of(&worktree.path),
            "",
            "the leftovers were not committed"
        );
        assert_eq!(
            git(&worktree.path, &["log", "-1", "--format=%s"]).trim(),
            format!("Task #{}: anon", task.id)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_end_of_task_commit_is_noted_and_the_changes_stay() {
    bounded(async {
        let sandbox = Sandbox::new();
        let sup = start(config(&sandbox));
        let repo = git_repo(&sandbox.project("repo"));
        // The user's own hook refuses every commit: Tasktray runs it, and says so.
        let hook = repo.join(".git/hooks/pre-commit");
        fs::write(&hook, "#!/bin/sh\necho 'no commits today' >&2\nexit 1\n").unwrap();
        let mut perms = fs::metadata(&hook).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&hook, perms).unwrap();
        let task = finished(&sup, in_worktree(&repo, "hooked", "tool echo h > h.txt")).await;
        let worktree = task.worktree.expect("worktree");
        let note = worktree.note.clone().expect("a note on the refused commit");
        assert!(note.contains("no commits today"), "{note}");
        assert!(sup
            .output_text(task.id)
            .unwrap()
            .contains("no commits today"));
        assert!(worktree.dir.join("h.txt").exists(), "the change was lost");
        // Unsaved work: discard asks first.
        assert!(matches!(
            sup.discard(task.id, false),
            Err(Error::UnmergedWork {
                uncommitted: true,
                ..
            })
        ));
    })
    .await;
}
