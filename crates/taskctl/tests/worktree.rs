//! `taskctl run --worktree`, `list`, `diff`, `merge`, `discard` and `keep-branch`, with the
//! app (through its API) and without it (on the shared history).

mod common;

use common::{text, App, PATIENCE};
use supervisor::{SpawnRequest, TaskOptions, TaskStatus, WorktreeState};
use tasktray_test_support::{bounded, git, git_repo, wait_until_async};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_a_worktree_task_runs_is_diffed_merged_and_discarded() {
    bounded(async {
        let app = App::start(false);
        let repo = git_repo(&app.project("repo"));
        let dir = repo.display().to_string();
        let run = app
            .taskctl(&[
                "run",
                "--worktree",
                "--format",
                "text",
                "-n",
                "hi",
                "-d",
                &dir,
                "fake: tool echo hi > hi.txt",
            ])
            .await;
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        assert!(
            !repo.join("hi.txt").exists(),
            "the agent wrote into the main folder"
        );

        let list = app.taskctl(&["list"]).await;
        assert!(
            text(&list.stdout).contains("[tasktray/1-hi]"),
            "{}",
            text(&list.stdout)
        );
        let stat = app.taskctl(&["diff", "1", "--stat"]).await;
        assert!(
            text(&stat.stdout).contains("hi.txt | 1 +"),
            "{}",
            text(&stat.stdout)
        );
        let diff = app.taskctl(&["diff", "1"]).await;
        assert!(text(&diff.stdout).contains("+hi"), "{}", text(&diff.stdout));

        let refused = app.taskctl(&["discard", "1"]).await;
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            text(&refused.stderr).contains("1 commit that no other branch has"),
            "{}",
            text(&refused.stderr)
        );
        let merged = app.taskctl(&["merge", "1"]).await;
        assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
        assert!(
            text(&merged.stderr).contains("into main: fast-forward"),
            "{}",
            text(&merged.stderr)
        );
        assert_eq!(git(&repo, &["show", "main:hi.txt"]), "hi\n");
        let discarded = app.taskctl(&["discard", "1"]).await;
        assert_eq!(
            discarded.status.code(),
            Some(0),
            "{}",
            text(&discarded.stderr)
        );
        let list = app.taskctl(&["list"]).await;
        assert!(
            text(&list.stdout).contains("[tasktray/1-hi, merged into main, removed]"),
            "{}",
            text(&list.stdout)
        );

        // Outside a repository: said at once, nothing started.
        let plain = app.sandbox.project("plain").display().to_string();
        let refused = app
            .taskctl(&["run", "--worktree", "-d", &plain, "fake: say hi"])
            .await;
        assert_eq!(refused.status.code(), Some(2));
        assert!(
            text(&refused.stderr).contains("not in a git repository"),
            "{}",
            text(&refused.stderr)
        );
        // Without git on PATH: said plainly.
        let no_git = app
            .command()
            .env("PATH", app.sandbox.path().join("empty-path"))
            .args(["run", "--worktree", "-d", &dir, "fake: say hi"])
            .output()
            .await
            .expect("run taskctl");
        assert_eq!(no_git.status.code(), Some(2));
        assert!(
            text(&no_git.stderr).contains("git was not found"),
            "{}",
            text(&no_git.stderr)
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_app_merge_and_keep_branch_go_through_it() {
    bounded(async {
        let app = App::start(true);
        let repo = git_repo(&app.project("repo"));
        let spawn = |name: &str, script: &str| {
            app.sup
                .spawn(SpawnRequest {
                    name: name.to_owned(),
                    prompt: format!("fake: {script}"),
                    project_dir: repo.clone(),
                    options: TaskOptions {
                        worktree: true,
                        ..TaskOptions::default()
                    },
                    follow_up_of: None,
                    queue: false,
                })
                .expect("spawn")
        };
        let one = spawn("one", "tool echo one > one.txt");
        let two = spawn("two", "tool echo two > two.txt");
        for id in [one, two] {
            assert!(
                wait_until_async(PATIENCE, || app
                    .sup
                    .get(id)
                    .is_some_and(|t| t.status == TaskStatus::Completed))
                .await,
                "task {id} did not complete"
            );
        }
        let merged = app.taskctl(&["merge", &one.to_string(), "--squash"]).await;
        assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
        assert!(
            text(&merged.stderr).contains("one squashed commit"),
            "{}",
            text(&merged.stderr)
        );
        // The app did it: its own record says so.
        assert_eq!(
            app.sup.get(one).and_then(|t| t.worktree).map(|w| w.state),
            Some(WorktreeState::Merged)
        );
        let kept = app.taskctl(&["keep-branch", &two.to_string()]).await;
        assert_eq!(kept.status.code(), Some(0), "{}", text(&kept.stderr));
        let worktree = app.sup.get(two).and_then(|t| t.worktree).expect("worktree");
        assert_eq!(worktree.state, WorktreeState::Kept);
        assert!(!worktree.path.exists());
        assert_eq!(
            git(&repo, &["show", &format!("{}:two.txt", worktree.branch)]),
            "two\n"
        );
        // A task without a worktree: said plainly.
        let plain = app.spawn("plain", "fake: say hi");
        assert!(
            wait_until_async(PATIENCE, || app
                .sup
                .get(plain)
                .is_some_and(|t| !t.status.is_active()))
            .await
        );
        let none = app.taskctl(&["diff", &plain.to_string()]).await;
        assert_eq!(none.status.code(), Some(2));
        assert!(
            text(&none.stderr).contains("did not run in a worktree"),
            "{}",
            text(&none.stderr)
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_git_identity_tasks_commit_and_merge_under_tasktrays() {
    bounded(async {
        let app = App::start(false);
        let repo = git_repo(&app.project("repo"));
        git(&repo, &["config", "--unset", "user.name"]);
        git(&repo, &["config", "--unset", "user.email"]);
        let dir = repo.display().to_string();
        // A user with no identity anywhere: no global or system git config either.
        let taskctl = |args: &[&str]| {
            let mut command = app.command();
            command
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(args);
            command
        };
        for (name, script) in [
            ("one", "fake: tool echo one > one.txt"),
            ("two", "fake: tool echo two > two.txt"),
            ("three", "fake: tool echo three > three.txt"),
        ] {
            let run = taskctl(&[
                "run",
                "--worktree",
                "--format",
                "text",
                "-n",
                name,
                "-d",
                &dir,
                script,
            ])
            .output()
            .await
            .expect("run taskctl");
            assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        }
        // A fast-forward, a squash and a merge commit: each needs no identity of the user's.
        for (id, flags, how) in [
            ("1", vec![], "fast-forward"),
            ("2", vec!["--squash"], "one squashed commit"),
            ("3", vec![], "merge commit"),
        ] {
            let mut args = vec!["merge", id];
            args.extend(flags);
            let merged = taskctl(&args).output().await.expect("run taskctl");
            assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
            assert!(
                text(&merged.stderr).contains(how),
                "{}",
                text(&merged.stderr)
            );
        }
        for file in ["one.txt", "two.txt", "three.txt"] {
            assert!(repo.join(file).is_file(), "{file} is not in main");
        }
        assert_eq!(
            git(&repo, &["log", "-1", "--format=%an"]).trim(),
            "Tasktray",
            "the merge commit's author"
        );
        app.stop().await;
    })
    .await;
}
