//! Two-way tasks through the API: an approval answered, a message sent, a turn interrupted.

use serde_json::{json, Value};
use tasktray_test_support::bounded;

use crate::{eventually, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_answered_through_the_api() {
    bounded(async {
        let h = Harness::start();
        let project = h.project("p");
        let id = h
            .spawn(&project, "fake: ask Bash touch x.txt", json!({}))
            .await;
        let approvals_uri = format!("/v1/tasks/{id}/approvals");
        let approval: Value = eventually("an open request", async || {
            let list = h.client.get(&approvals_uri).await.expect(200);
            list["approvals"].as_array()?.first().cloned()
        })
        .await;
        assert_eq!(approval["task"], id);
        assert_eq!(approval["tool"], "Bash");
        assert_eq!(approval["input"]["command"], "touch x.txt");
        let all = h.client.get("/v1/approvals").await.expect(200);
        assert_eq!(all["approvals"], json!([approval.clone()]));
        h.wait_for_status(id, "waiting").await;

        let request_id = approval["request_id"].as_str().expect("a request id");
        h.client
            .post(
                &format!("{approvals_uri}/no-such-request"),
                &json!({"decision": "allow"}),
            )
            .await
            .expect_error(404, "ApprovalNotFound");
        h.client
            .post(
                &format!("{approvals_uri}/{request_id}"),
                &json!({"decision": "maybe"}),
            )
            .await
            .expect_error(400, "InvalidJson");
        h.client
            .post(
                &format!("{approvals_uri}/{request_id}"),
                &json!({"decision": "allow"}),
            )
            .await
            .expect(202);
        let done = h.wait(id).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert!(project.join("x.txt").is_file(), "the allowed tool ran");
        let none = h.client.get("/v1/approvals").await.expect(200);
        assert_eq!(none["approvals"], json!([]));
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_a_running_task() {
    bounded(async {
        let h = Harness::start();
        let id = h
            .spawn(&h.project("p"), "fake: say ready; wait-message", json!({}))
            .await;
        h.wait_for_output(id, "ready").await;
        let sent = h
            .client
            .post(
                &format!("/v1/tasks/{id}/messages"),
                &json!({"message": "hello there"}),
            )
            .await
            .expect(202);
        assert_eq!(sent["id"], id);
        let done = h.wait(id).await;
        assert_eq!(done["status"], "completed", "{done}");
        h.wait_for_output(id, "got message: hello there").await;
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_turn_waits_for_a_new_message() {
    bounded(async {
        let h = Harness::start();
        let id = h
            .spawn(&h.project("p"), "fake: say ready; sleep 30", json!({}))
            .await;
        h.wait_for_output(id, "ready").await;
        h.client
            .post(&format!("/v1/tasks/{id}/interrupt"), &json!(null))
            .await
            .expect(202);
        h.wait_for_status(id, "waiting").await;
        h.client
            .post(
                &format!("/v1/tasks/{id}/messages"),
                &json!({"message": "fake: say after the stop"}),
            )
            .await
            .expect(202);
        let done = h.wait(id).await;
        assert_eq!(done["status"], "completed", "{done}");
        h.wait_for_output(id, "after the stop").await;
        h.finish().await;
    })
    .await;
}
