//! `/v1/tasks`: spawn, get, wait, output pages, list, cancel, follow-up, delete.

use serde_json::{json, Value};
use tasktray_test_support::{bounded, workspace_bin};

use crate::Harness;

fn seqs(page: &Value) -> Vec<u64> {
    page["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["seq"].as_u64().expect("a seq"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_get_wait_and_read_the_output_by_pages() {
    bounded(async {
        // A small ring, so the tail and the pages from disk differ.
        let h = Harness::start_with(|c| c.ring_lines = 50);
        let project = h.project("p");
        let reply = h
            .client
            .post(
                "/v1/tasks",
                &json!({"name": "flood", "prompt": "fake: flood 300", "project_dir": project,
                        "options": {"format": "text"}}),
            )
            .await;
        let record = reply.expect(201);
        let id = record["id"].as_u64().expect("an id");
        assert_eq!(
            reply.headers["location"].to_str().expect("ASCII"),
            format!("/v1/tasks/{id}")
        );
        assert_eq!(record["name"], "flood");
        assert_eq!(record["options"]["format"], "text");

        let got = h.client.get(&format!("/v1/tasks/{id}")).await.expect(200);
        assert_eq!(got["id"], id);
        assert_eq!(got["prompt"], "fake: flood 300");

        let done = h.wait(id).await;
        assert_eq!(done["status"], "completed", "{done}");
        let total = done["line_count"].as_u64().expect("a count");
        assert!(total >= 300, "{done}");

        // The tail: what the ring holds, and where live output goes on.
        let tail = h
            .client
            .get(&format!("/v1/tasks/{id}/output"))
            .await
            .expect(200);
        assert_eq!(seqs(&tail), (total - 50..total).collect::<Vec<_>>());
        assert_eq!(tail["next_seq"], total);
        assert_eq!(tail["before"], total - 50);
        let short = h
            .client
            .get(&format!("/v1/tasks/{id}/output?count=10"))
            .await
            .expect(200);
        assert_eq!(seqs(&short), (total - 10..total).collect::<Vec<_>>());

        // Scroll back from the tail to the first line, a page at a time.
        let mut lines: Vec<Value> = tail["lines"].as_array().expect("lines").clone();
        let mut before = tail["before"].as_u64();
        while let Some(cursor) = before {
            let page = h
                .client
                .get(&format!("/v1/tasks/{id}/output?before={cursor}&count=100"))
                .await
                .expect(200);
            assert_eq!(page["next_seq"], cursor);
            let mut older = page["lines"].as_array().expect("lines").clone();
            assert!(!older.is_empty() && older.len() <= 100);
            older.append(&mut lines);
            lines = older;
            before = page["before"].as_u64();
        }
        let all: Vec<u64> = lines
            .iter()
            .map(|l| l["seq"].as_u64().expect("seq"))
            .collect();
        assert_eq!(all, (0..total).collect::<Vec<_>>());
        assert!(lines[0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("000")));
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_prepares_tasks_started_through_the_api() {
    bounded(async {
        let h = Harness::start();
        let settings = json!({
            "allowed_tools": "Read",
            "agent_path": workspace_bin("fake-claude"),
        });
        h.client.put("/v1/settings", &settings).await.expect(200);
        let id = h.spawn(&h.project("p"), "hello", json!({})).await;
        let done = h.wait(id).await;
        assert_eq!(done["options"]["allowed_tools"], json!(["Read"]));
        assert_eq!(done["result"]["text"], "hello");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_is_json_whatever_its_content_type() {
    bounded(async {
        let h = Harness::start();
        // What `curl -d '{...}'` sends without `-H 'Content-Type: application/json'`.
        let body = json!({"prompt": "hello", "project_dir": h.project("p")}).to_string();
        let reply = h
            .client
            .request_typed("/v1/tasks", &body, "application/x-www-form-urlencoded")
            .await;
        let id = reply.expect(201)["id"].as_u64().expect("an id");
        assert_eq!(h.wait(id).await["status"], "completed");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_prompt_under_the_limit_is_taken() {
    bounded(async {
        let h = Harness::start();
        let prompt = format!("fake: say big\n# {}", "x".repeat(2 * 1024 * 1024));
        let id = h.spawn(&h.project("p"), &prompt, json!({})).await;
        let done = h.wait(id).await;
        assert_eq!(done["status"], "completed", "{}", done["failure"]);
        assert_eq!(done["result"]["text"], "big");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_filters_by_status_and_pages_with_a_cursor() {
    bounded(async {
        let h = Harness::start();
        let mut done = Vec::new();
        for name in ["a", "b", "c"] {
            let id = h.spawn(&h.project(name), "fake: say hi", json!({})).await;
            h.wait(id).await;
            done.push(id);
        }
        let long = h.spawn(&h.project("d"), "fake: sleep 30", json!({})).await;
        h.wait_for_status(long, "running").await;
        let ids = |list: &Value| -> Vec<u64> {
            list["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .map(|t| t["id"].as_u64().expect("an id"))
                .collect()
        };

        let running = h.client.get("/v1/tasks?status=running").await.expect(200);
        assert_eq!(ids(&running), [long]);
        assert!(running["next_cursor"].is_null());
        let completed = h.client.get("/v1/tasks?status=completed").await.expect(200);
        assert_eq!(ids(&completed), [done[2], done[1], done[0]], "newest first");
        let both = h
            .client
            .get("/v1/tasks?status=completed,running")
            .await
            .expect(200);
        assert_eq!(ids(&both), [long, done[2], done[1], done[0]]);

        let first = h.client.get("/v1/tasks?limit=2").await.expect(200);
        assert_eq!(ids(&first), [long, done[2]]);
        assert_eq!(first["next_cursor"], done[2]);
        let cursor = done[2];
        let second = h
            .client
            .get(&format!("/v1/tasks?limit=2&cursor={cursor}"))
            .await
            .expect(200);
        assert_eq!(ids(&second), [done[1], done[0]]);
        assert!(second["next_cursor"].is_null(), "the last page");
        assert_eq!(second["total"], 4, "the total counts every page");

        // Search: every word, ignoring case, in the name, prompt, folder or result.
        let found = h.client.get("/v1/tasks?search=SLEEP").await.expect(200);
        assert_eq!(ids(&found), [long]);
        assert_eq!(found["total"], 1);
        let in_folder = h
            .client
            .get("/v1/tasks?search=hi%20/b&status=completed")
            .await
            .expect(200);
        assert_eq!(ids(&in_folder), [done[1]], "{in_folder}");
        let none = h
            .client
            .get("/v1/tasks?search=nothing%20here")
            .await
            .expect(200);
        assert_eq!(ids(&none), Vec::<u64>::new());
        assert_eq!(none["total"], 0);

        h.client
            .get("/v1/tasks?status=sleeping")
            .await
            .expect_error(400, "InvalidQuery");
        h.client
            .get("/v1/tasks?limit=many")
            .await
            .expect_error(400, "InvalidQuery");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_task_and_wait_can_time_out() {
    bounded(async {
        let h = Harness::start();
        let id = h.spawn(&h.project("p"), "fake: sleep 30", json!({})).await;
        h.wait_for_status(id, "running").await;
        let waited = h
            .client
            .get(&format!("/v1/tasks/{id}/wait?timeout_ms=100"))
            .await
            .expect(200);
        assert_eq!(
            waited["status"], "running",
            "a timed-out wait: still running"
        );

        let stopping = h
            .client
            .post(&format!("/v1/tasks/{id}/cancel"), &json!(null))
            .await
            .expect(202);
        assert_eq!(stopping["id"], id);
        assert_eq!(h.wait(id).await["status"], "cancelled");
        h.client
            .post(&format!("/v1/tasks/{id}/cancel"), &json!(null))
            .await
            .expect_error(409, "TaskNotRunning");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_continues_a_kept_session() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let first = h
            .spawn(&project, "fake: say first", json!({"keep_session": true}))
            .await;
        let session = h.wait(first).await["session_id"].clone();
        assert!(session.is_string());
        let reply = h
            .client
            .post(
                &format!("/v1/tasks/{first}/follow-up"),
                &json!({"prompt": "second"}),
            )
            .await;
        let record = reply.expect(201);
        let second = record["id"].as_u64().expect("an id");
        assert_eq!(
            reply.headers["location"].to_str().expect("ASCII"),
            format!("/v1/tasks/{second}")
        );
        assert_eq!(record["follow_up_of"], first);
        assert_eq!(record["options"]["resume"], session);
        let done = h.wait(second).await;
        assert_eq!(done["status"], "completed");
        assert!(
            done["result"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("second")),
            "{done}"
        );

        let plain = h.spawn(&h.project("q"), "fake: say once", json!({})).await;
        h.wait(plain).await;
        h.client
            .post(
                &format!("/v1/tasks/{plain}/follow-up"),
                &json!({"prompt": "again"}),
            )
            .await
            .expect_error(409, "NoSession");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_a_finished_task_and_refuses_a_running_one() {
    bounded(async {
        let h = Harness::start();
        let id = h.spawn(&h.project("p"), "fake: sleep 30", json!({})).await;
        let uri = format!("/v1/tasks/{id}");
        h.client.delete(&uri).await.expect_error(409, "TaskRunning");
        h.client
            .post(&format!("{uri}/cancel"), &json!(null))
            .await
            .expect(202);
        h.wait(id).await;
        let removed = h.client.delete(&uri).await;
        assert_eq!(removed.status, 204);
        assert!(removed.body.is_empty());
        h.client.get(&uri).await.expect_error(404, "TaskNotFound");
        h.client
            .delete(&uri)
            .await
            .expect_error(404, "TaskNotFound");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_queued_through_the_api_waits_is_listed_and_is_cancelled_or_started() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let busy = h
            .spawn(&project, "fake: say ready; wait-message", json!({}))
            .await;
        let body = |queue: bool| {
            json!({"prompt": "fake: say queued", "project_dir": project, "queue": queue})
        };
        let refused = h.client.post("/v1/tasks", &body(false)).await;
        assert_eq!(refused.expect_error(409, "ProjectBusy")["task_id"], busy);

        let first = h.client.post("/v1/tasks", &body(true)).await.expect(201);
        assert_eq!(first["status"], "queued");
        let second = h.client.post("/v1/tasks", &body(true)).await.expect(201);
        let [first, second] = [&first, &second].map(|t| t["id"].as_u64().expect("id"));
        let listed = h.client.get("/v1/tasks?status=queued").await.expect(200);
        let ids: Vec<u64> = listed["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["id"].as_u64())
            .collect();
        assert_eq!(ids, vec![second, first], "newest first, as every list");
        // A queued task takes no message yet.
        h.client
            .post(&format!("/v1/tasks/{first}/messages"), &json!({"message": "hi"}))
            .await
            .expect_error(409, "TaskQueued");

        // Cancelled before it starts; the other one starts when the folder frees.
        h.client
            .post(&format!("/v1/tasks/{second}/cancel"), &json!({}))
            .await
            .expect(202);
        let cancelled = h.wait(second).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["started_at_ms"], Value::Null);
        h.wait_for_output(busy, "ready").await;
        h.client
            .post(&format!("/v1/tasks/{busy}/messages"), &json!({"message": "go on"}))
            .await
            .expect(202);
        assert_eq!(h.wait(first).await["status"], "completed");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_back_past_the_start_ends_instead_of_looping() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let busy = h
            .spawn(&project, "fake: say ready; wait-message", json!({}))
            .await;
        // A task that never wrote a line: queued, then cancelled.
        let body = json!({"prompt": "fake: say no", "project_dir": project, "queue": true});
        let empty = h.client.post("/v1/tasks", &body).await.expect(201)["id"]
            .as_u64()
            .expect("id");
        h.client
            .post(&format!("/v1/tasks/{empty}/cancel"), &json!({}))
            .await
            .expect(202);
        for id in [empty, busy] {
            let mut before = Some(10_000);
            let mut pages = 0;
            while let Some(cursor) = before {
                let page = h
                    .client
                    .get(&format!("/v1/tasks/{id}/output?before={cursor}&count=2"))
                    .await
                    .expect(200);
                before = page["before"].as_u64();
                assert!(before.is_none_or(|b| b < cursor), "{page}");
                pages += 1;
                assert!(
                    pages < 100,
                    "paging back from {cursor} does not end: {page}"
                );
            }
        }
        h.wait_for_output(busy, "ready").await;
        h.client
            .post(
                &format!("/v1/tasks/{busy}/messages"),
                &json!({"message": "go on"}),
            )
            .await
            .expect(202);
        h.wait(busy).await;
        h.finish().await;
    })
    .await;
}
