//! Settings through the host's store, the version, and the OpenAPI document: served, and the
//! committed copy fresh (`UPDATE_OPENAPI=1 cargo test -p tasktray-api` rewrites it).

use std::path::PathBuf;

use serde_json::{json, Value};
use tasktray_api::{openapi_json, API_VERSION};
use tasktray_test_support::bounded;

use crate::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_checked_saved_and_applied() {
    bounded(async {
        let h = Harness::start();
        let first = h.client.get("/v1/settings").await.expect(200);
        assert_eq!(first["max_running"], 4);
        assert_eq!(first["allowed_tools"], "");
        let mut new = first.clone();
        new["max_running"] = json!(2);
        new["allowed_tools"] = json!("Read,  Grep");
        let saved = h.client.put("/v1/settings", &new).await.expect(200);
        assert_eq!(saved["allowed_tools"], "Read Grep", "normalised as saved");
        assert_eq!(h.client.get("/v1/settings").await.expect(200), saved);
        assert_eq!(h.supervisor.config().max_running, Some(2), "applied");
        let on_disk = std::fs::read_to_string(h.sandbox.data_dir().join("settings.json"))
            .expect("settings saved in the data dir");
        assert!(on_disk.contains("\"max_running\": 2"), "{on_disk}");

        let mut bad = saved.clone();
        bad["ring_lines"] = json!(5);
        let refused = h.client.put("/v1/settings", &bad).await;
        refused.expect_error(400, "InvalidSettings");
        h.client
            .request(hyper::Method::PUT, "/v1/settings", b"{".to_vec())
            .await
            .expect_error(400, "InvalidJson");
        h.client
            .put("/v1/settings", &json!({"max_running": "four"}))
            .await
            .expect_error(400, "InvalidJson");
        assert_eq!(h.client.get("/v1/settings").await.expect(200), saved);
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_and_the_served_openapi_document() {
    bounded(async {
        let h = Harness::start();
        let version = h.client.get("/v1/version").await.expect(200);
        assert_eq!(version["api"], API_VERSION);
        assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
        let served = h.client.get("/openapi.json").await;
        assert_eq!(served.status, 200);
        assert_eq!(
            std::str::from_utf8(&served.body).expect("UTF-8"),
            openapi_json()
        );
        h.finish().await;
    })
    .await;
}

/// Every route of the README, as `METHOD path`.
const ROUTES: [&str; 23] = [
    "post /v1/tasks",
    "get /v1/tasks",
    "get /v1/tasks/{id}",
    "delete /v1/tasks/{id}",
    "get /v1/tasks/{id}/output",
    "post /v1/tasks/{id}/cancel",
    "post /v1/tasks/{id}/interrupt",
    "post /v1/tasks/{id}/messages",
    "get /v1/approvals",
    "get /v1/tasks/{id}/approvals",
    "post /v1/tasks/{id}/approvals/{request_id}",
    "post /v1/tasks/{id}/follow-up",
    "get /v1/tasks/{id}/wait",
    "get /v1/events",
    "get /v1/settings",
    "put /v1/settings",
    "get /v1/version",
    "get /v1/tasks/{id}/review",
    "get /v1/tasks/{id}/diff",
    "post /v1/tasks/{id}/merge",
    "post /v1/tasks/{id}/keep-branch",
    "post /v1/tasks/{id}/discard",
    "get /v1/repo-head",
];

#[test]
fn the_committed_openapi_document_is_fresh() {
    let fresh = openapi_json();
    let doc: Value = serde_json::from_str(&fresh).expect("JSON");
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("an item").keys() {
            documented.push(format!("{method} {path}"));
        }
    }
    let mut expected: Vec<String> = ROUTES.iter().map(|r| r.to_string()).collect();
    expected.sort();
    documented.sort();
    assert_eq!(documented, expected);
    for schema in [
        "TaskRecord",
        "SpawnRequest",
        "Event",
        "ApiError",
        "Decision",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }

    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&committed, &fresh).expect("write openapi.json");
        return;
    }
    let current = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        current == fresh,
        "crates/api/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p tasktray-api`"
    );
}
