//! Worktree tasks through the API: started with `options.worktree`, reviewed, diffed, merged,
//! discarded (refused without `force` while unmerged), and where a new one would start.

use serde_json::json;
use tasktray_test_support::{bounded, git, git_repo};

use crate::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_task_is_reviewed_merged_and_discarded_through_the_api() {
    bounded(async {
        let h = Harness::start();
        let repo = git_repo(&h.project("repo"));
        let plain = h.project("plain");

        let head = h
            .client
            .get(&format!("/v1/repo-head?folder={}", repo.display()))
            .await
            .expect(200);
        assert_eq!(head["branch"], "main");
        assert_eq!(head["dirty"], false);
        h.client
            .get(&format!("/v1/repo-head?folder={}", plain.display()))
            .await
            .expect_error(400, "NotARepository");

        let spawn = |name: &str, script: &str| {
            json!({"name": name, "prompt": format!("fake: {script}"), "project_dir": repo,
                   "options": {"format": "text", "worktree": true}})
        };
        let made = h
            .client
            .post("/v1/tasks", &spawn("hello", "tool echo hello > hello.txt"))
            .await
            .expect(201);
        let id = made["id"].as_u64().expect("an id");
        assert!(made["worktree"]["branch"]
            .as_str()
            .is_some_and(|b| b.starts_with(&format!("tasktray/{id}-hello"))));
        assert_eq!(h.wait(id).await["status"], "completed");

        let review = h
            .client
            .get(&format!("/v1/tasks/{id}/review"))
            .await
            .expect(200);
        assert_eq!(review["files"][0]["path"], "hello.txt");
        assert_eq!(review["files"][0]["added"], 1);
        assert_eq!(review["commits"].as_array().map(Vec::len), Some(1));
        let diff = h.client.get(&format!("/v1/tasks/{id}/diff")).await;
        assert_eq!(diff.status, 200);
        assert!(String::from_utf8_lossy(&diff.body).contains("+hello"));
        let stat = h
            .client
            .get(&format!("/v1/tasks/{id}/diff?stat=true"))
            .await;
        assert!(String::from_utf8_lossy(&stat.body).contains("hello.txt | 1 +"));

        // Unmerged: removing the task or discarding without force is refused.
        h.client
            .delete(&format!("/v1/tasks/{id}"))
            .await
            .expect_error(409, "WorktreeOpen");
        h.client
            .post(&format!("/v1/tasks/{id}/discard"), &json!({}))
            .await
            .expect_error(409, "UnmergedWork");

        let merged = h
            .client
            .post(&format!("/v1/tasks/{id}/merge"), &json!({}))
            .await
            .expect(200);
        assert_eq!(merged["kind"], "fast-forward");
        assert_eq!(merged["into"], "main");
        assert_eq!(git(&repo, &["show", "main:hello.txt"]), "hello\n");
        let reply = h
            .client
            .post(&format!("/v1/tasks/{id}/discard"), &json!({}))
            .await;
        assert_eq!(reply.status, 204);
        let record = h.client.get(&format!("/v1/tasks/{id}")).await.expect(200);
        assert_eq!(record["worktree"]["state"], "discarded");

        // Another one, thrown away with force; a task without a worktree has nothing to review.
        let other = h
            .client
            .post("/v1/tasks", &spawn("other", "tool echo x > x.txt"))
            .await
            .expect(201)["id"]
            .as_u64()
            .expect("an id");
        h.wait(other).await;
        let reply = h
            .client
            .post(&format!("/v1/tasks/{other}/discard?force=true"), &json!({}))
            .await;
        assert_eq!(reply.status, 204);
        let lone = h
            .client
            .post(
                "/v1/tasks",
                &json!({"prompt": "fake: say hi", "project_dir": plain,
                        "options": {"format": "text"}}),
            )
            .await
            .expect(201)["id"]
            .as_u64()
            .expect("an id");
        h.wait(lone).await;
        h.client
            .get(&format!("/v1/tasks/{lone}/review"))
            .await
            .expect_error(409, "NoWorktree");
        h.client
            .post(
                "/v1/tasks",
                &json!({"prompt": "fake: say hi", "project_dir": plain,
                                       "options": {"worktree": true}}),
            )
            .await
            .expect_error(400, "NotARepository");
    })
    .await;
}
