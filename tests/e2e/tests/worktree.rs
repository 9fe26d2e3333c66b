//! A task in a git worktree of its own, as a user runs one: started from the New task form
//! with "Own worktree" ticked in a fresh repository, its project folder left alone while it
//! works, its Changes reviewed in the task view (the file and its diff), merged with Merge
//! into the branch it started from, and the repository's `main` then has the file.
//! Run with tests/e2e/run.sh (skipped otherwise).
//!
//! A screenshot of the review goes to `target/e2e/screenshots/worktree-review.png`; with
//! `TASKTRAY_E2E_DOCS=1` also to `docs/images/worktree-review.png` (the README's).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tasktray_e2e::ui::{task_row, tid, UI_TIMEOUT};
use tasktray_e2e::{enabled, App, Launch};
use tasktray_test_support::{bounded, git, git_repo};

/// How long a short fake-claude task gets to finish.
const FINISH: Duration = Duration::from_secs(20);
/// How long the view gets to show what git answered (review, merge).
const REACT: Duration = Duration::from_secs(15);

/// `docs/images` of the repository.
fn docs_images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/images")
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_worktree_task_is_reviewed_and_merged_from_its_view() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("worktree", Launch::default()).await;
        // A repository on `main` with one commit (a README), its user set locally.
        let project = git_repo(&app.project("repo"));
        let short = git(&project, &["rev-parse", "--short", "HEAD"])
            .trim()
            .to_owned();

        // The form: "Own worktree" (off by default) says what the task starts from.
        app.open_form().await;
        app.fill_form(&project, "Say hello", "fake: tool echo hello > hello.txt")
            .await;
        let starts = format!("Starts from main at {short}");
        let hint = app
            .wait_text(&tid("launch-worktree-hint"), &starts, UI_TIMEOUT)
            .await;
        assert_eq!(hint.trim(), starts, "a clean repository: no more to say");
        app.click(&tid("launch-worktree")).await;
        let checked = app
            .js(
                "return document.querySelector(arguments[0]).checked;",
                vec![serde_json::json!(tid("launch-worktree"))],
            )
            .await;
        assert_eq!(checked, serde_json::json!(true), "Own worktree ticked");
        app.screenshot("worktree-form").await;
        let id = app.submit_form().await;
        app.wait_task_status_shown(id, "completed", FINISH).await;

        // The agent worked in the worktree: the project folder is as it was.
        assert!(
            !project.join("hello.txt").exists(),
            "hello.txt was written in the project folder, not in the task's worktree"
        );

        // Its Changes: the branch, where it started, hello.txt with its diff (one file: open).
        let review = tid("worktree-review");
        let branch_prefix = format!("⎇ tasktray/{id}-");
        app.wait_text(&review, &branch_prefix, REACT).await;
        app.wait_text(
            &tid("worktree-from"),
            &format!("from main at {short}"),
            REACT,
        )
        .await;
        let file = app
            .wait_text(&tid("worktree-file"), "hello.txt", REACT)
            .await;
        assert!(file.contains("+1 −0"), "the file's counts: {file:?}");
        let diff = app
            .wait_text(&format!("{review} {}", tid("diff")), "+hello", REACT)
            .await;
        assert!(diff.contains("+++ b/hello.txt"), "the diff: {diff:?}");
        assert_eq!(
            app.text_of(&tid("worktree-state")).await.as_deref(),
            Some("Not merged yet")
        );
        let shot = app.gallery_screenshot("worktree-review").await;
        if std::env::var_os("TASKTRAY_E2E_DOCS").is_some() {
            fs::create_dir_all(docs_images()).expect("create docs/images");
            fs::copy(&shot, docs_images().join("worktree-review.png"))
                .expect("copy the screenshot to docs/images");
        }

        // Merge: into main, by a fast-forward (main has not moved since).
        app.click(&tid("worktree-merge")).await;
        let done = app
            .wait_text(&tid("worktree-done"), "Merged into main", REACT)
            .await;
        assert_eq!(done, "✓ Merged into main (fast-forward)");
        app.wait_text(&tid("worktree-state"), "Merged", REACT).await;
        app.wait_text(&tid("worktree-discard"), "Remove worktree", REACT)
            .await;
        app.screenshot("merged").await;

        // The repository's main has the file, and so has its folder (on main).
        let tree = git(&project, &["ls-tree", "--name-only", "main"]);
        assert!(
            tree.lines().any(|l| l == "hello.txt"),
            "main's files: {tree:?}"
        );
        assert_eq!(git(&project, &["show", "main:hello.txt"]), "hello\n");
        assert_eq!(
            fs::read_to_string(project.join("hello.txt")).expect("hello.txt in the folder"),
            "hello\n"
        );

        // The list: the task's row names its branch.
        app.back_to_list().await;
        let chip = app
            .wait_text(
                &format!("{} {}", task_row(id), tid("task-branch")),
                &branch_prefix,
                UI_TIMEOUT,
            )
            .await;
        assert!(chip.starts_with(&branch_prefix), "the chip: {chip:?}");

        app.finish().await;
    })
    .await;
}
