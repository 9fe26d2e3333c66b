//! Every error is `{"code", "message"}` JSON with a fitting status: the core's errors, and what
//! never reaches the core (malformed bodies, queries and paths, unknown routes, big bodies).

use hyper::Method;
use serde_json::json;
use tasktray_api::MAX_BODY_BYTES;
use tasktray_test_support::bounded;

use crate::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_there_is_404() {
    bounded(async {
        let h = Harness::start();
        let missing = h.client.get("/v1/tasks/999").await;
        let json = missing.expect_error(404, "TaskNotFound");
        assert!(json["message"].as_str().is_some_and(|m| m.contains("999")));
        assert!(json.get("task_id").is_none());
        for uri in [
            "/v1/tasks/999/output",
            "/v1/tasks/999/output?before=10",
            "/v1/tasks/999/wait",
            "/v1/tasks/999/approvals",
            "/v1/events?task=999",
        ] {
            h.client.get(uri).await.expect_error(404, "TaskNotFound");
        }
        for uri in [
            "/v1/tasks/999/cancel",
            "/v1/tasks/999/interrupt",
            "/v1/tasks/999/approvals/r1",
        ] {
            let body = json!({"decision": "allow"});
            h.client
                .post(uri, &body)
                .await
                .expect_error(404, "TaskNotFound");
        }
        h.client
            .get("/v1/nothing")
            .await
            .expect_error(404, "NotFound");
        h.client
            .request(Method::PATCH, "/v1/tasks", Vec::new())
            .await
            .expect_error(405, "MethodNotAllowed");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_used_is_400() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let post = |body: &'static str| {
            h.client
                .request(Method::POST, "/v1/tasks", body.as_bytes().to_vec())
        };
        post("{not json").await.expect_error(400, "InvalidJson");
        post("").await.expect_error(400, "InvalidJson");
        let missing = post(r#"{"prompt": "x"}"#).await;
        let json = missing.expect_error(400, "InvalidJson");
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("project_dir")),
            "{json}"
        );
        let client = &h.client;
        let spawn = |prompt: &str, dir: &str| {
            let body = json!({"prompt": prompt, "project_dir": dir});
            async move { client.post("/v1/tasks", &body).await }
        };
        let dir = project.to_str().expect("UTF-8");
        spawn("  ", dir).await.expect_error(400, "EmptyPrompt");
        spawn("a\0b", dir).await.expect_error(400, "InvalidPrompt");
        spawn("hi", "relative/dir")
            .await
            .expect_error(400, "InvalidProjectDir");
        spawn("hi", "/no/such/folder")
            .await
            .expect_error(400, "InvalidProjectDir");
        h.client
            .get("/v1/tasks/abc")
            .await
            .expect_error(400, "InvalidPath");
        h.client
            .get("/v1/tasks/1/output?count=-1")
            .await
            .expect_error(400, "InvalidQuery");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    bounded(async {
        let h = Harness::start();
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        h.client
            .request(Method::POST, "/v1/tasks", body)
            .await
            .expect_error(413, "PayloadTooLarge");
        h.client
            .request(Method::PUT, "/v1/settings", vec![b' '; MAX_BODY_BYTES + 1])
            .await
            .expect_error(413, "PayloadTooLarge");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_task_state_forbids_is_409() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let busy = h.spawn(&project, "fake: sleep 30", json!({})).await;
        let second = json!({"prompt": "hi", "project_dir": project});
        let json = h
            .client
            .post("/v1/tasks", &second)
            .await
            .expect_error(409, "ProjectBusy");
        assert_eq!(json["task_id"], busy, "the task in the way");

        let text = h
            .spawn(&h.project("t"), "fake: sleep 30", json!({"format": "text"}))
            .await;
        let message = json!({"message": "hello"});
        h.client
            .post(&format!("/v1/tasks/{text}/messages"), &message)
            .await
            .expect_error(409, "NotTwoWay");
        h.client
            .post(&format!("/v1/tasks/{text}/interrupt"), &json!(null))
            .await
            .expect_error(409, "NotTwoWay");
        h.client
            .post(
                &format!("/v1/tasks/{busy}/messages"),
                &json!({"message": " "}),
            )
            .await
            .expect_error(400, "EmptyMessage");

        let quick = h.spawn(&h.project("q"), "fake: say hi", json!({})).await;
        h.wait(quick).await;
        h.client
            .post(&format!("/v1/tasks/{quick}/messages"), &message)
            .await
            .expect_error(409, "TaskNotRunning");
        h.client
            .post(
                &format!("/v1/tasks/{quick}/approvals/r1"),
                &json!({"decision": "allow"}),
            )
            .await
            .expect_error(409, "TaskNotRunning");
        h.finish().await;
    })
    .await;
}

/// A malformed task id is 400 `InvalidPath` on every route that takes one, and a malformed
/// query 400 `InvalidQuery`, and the OpenAPI document says so for each (the schemathesis run
/// of `make test-schema` found these 400s undocumented).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_and_queries_are_documented_400s() {
    bounded(async {
        let h = Harness::start();
        let spec = h.client.get("/openapi.json").await.expect(200);
        let documents_400 = |path: &str, method: &str| {
            spec["paths"][path][method]["responses"]
                .get("400")
                .is_some()
        };
        let paths = spec["paths"].as_object().expect("paths");
        let mut with_id = 0;
        for (path, operations) in paths.iter().filter(|(p, _)| p.contains("{id}")) {
            for method in operations.as_object().expect("operations").keys() {
                let uri = path.replace("{id}", "-1").replace("{request_id}", "r1");
                let verb = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
                let reply = h.client.request(verb, &uri, b"{}".to_vec()).await;
                reply.expect_error(400, "InvalidPath");
                assert!(
                    documents_400(path, method),
                    "{method} {path}: 400 undocumented"
                );
                with_id += 1;
            }
        }
        assert!(with_id >= 10, "only {with_id} operations take a task id");
        for (path, query) in [
            ("/v1/tasks", "limit=-1"),
            ("/v1/tasks/{id}/output", "count=-1"),
            ("/v1/tasks/{id}/output", "before=x"),
            ("/v1/tasks/{id}/wait", "timeout_ms=-1"),
            ("/v1/events", "task=x"),
        ] {
            let uri = format!("{}?{query}", path.replace("{id}", "1"));
            h.client.get(&uri).await.expect_error(400, "InvalidQuery");
            assert!(documents_400(path, "get"), "GET {path}: 400 undocumented");
        }
        h.finish().await;
    })
    .await;
}

/// Every request body is a JSON object, as the spec says. serde would also take an array of
/// the fields in order, and `[]` for a type whose fields all have defaults: `PUT
/// /v1/settings` with `[]` reset the user's settings (found by the schemathesis run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_must_be_a_json_object() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let as_array = json!(["name", "hello", project]);
        h.client
            .post("/v1/tasks", &as_array)
            .await
            .expect_error(400, "InvalidJson");
        let list = h.client.get("/v1/tasks").await.expect(200);
        assert_eq!(list["tasks"], json!([]), "no task started");

        let id = h
            .spawn(&project, "fake: sleep 30", json!({"keep_session": true}))
            .await;
        for (uri, body) in [
            (format!("/v1/tasks/{id}/messages"), json!(["hello"])),
            (format!("/v1/tasks/{id}/follow-up"), json!(["again"])),
            (format!("/v1/tasks/{id}/approvals/r1"), json!(["allow"])),
        ] {
            h.client
                .post(&uri, &body)
                .await
                .expect_error(400, "InvalidJson");
        }
        // Last: saved settings resolve the agent again, without the harness's fake one.
        let mut settings = h.client.get("/v1/settings").await.expect(200);
        settings["max_running"] = json!(2);
        let saved = h.client.put("/v1/settings", &settings).await.expect(200);
        h.client
            .request(Method::PUT, "/v1/settings", b" []".to_vec())
            .await
            .expect_error(400, "InvalidJson");
        assert_eq!(
            h.client.get("/v1/settings").await.expect(200),
            saved,
            "the settings stay as they were"
        );
        h.finish().await;
    })
    .await;
}
