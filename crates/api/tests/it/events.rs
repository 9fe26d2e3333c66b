//! `GET /v1/events`: order, the task filter, a slow reader's resync, and the end of streams and
//! long polls when the server stops.

use hyper::Method;
use serde_json::json;
use tasktray_api::RESYNC_EVENT;
use tasktray_test_support::bounded;

use crate::client::Sse;
use crate::Harness;

fn of_task(event: &Sse, id: u64) -> bool {
    event.data["task"] == id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_seen_from_spawn_to_end_in_order() {
    bounded(async {
        let h = Harness::start();
        let mut stream = h.client.events("/v1/events").await;
        let id = h.spawn(&h.project("p"), "fake: say hi", json!({})).await;
        let seen = stream
            .until(|e| of_task(e, id) && e.name == "completed")
            .await;
        let names: Vec<&str> = seen
            .iter()
            .filter(|e| of_task(e, id))
            .map(|e| e.name.as_str())
            .filter(|n| ["spawned", "started", "output", "completed"].contains(n))
            .collect();
        assert_eq!(names[..2], ["spawned", "started"], "{names:?}");
        assert_eq!(names.last(), Some(&"completed"));
        assert!(names[2..names.len() - 1].iter().all(|n| *n == "output"));
        assert!(names.len() > 3, "some output: {names:?}");
        for event in &seen {
            assert_eq!(
                event.data["type"],
                event.name.as_str(),
                "the name is the type"
            );
        }

        // Output lines arrive once each, in order, from 0.
        let seqs: Vec<u64> = seen
            .iter()
            .filter(|e| of_task(e, id) && e.name == "output")
            .flat_map(|e| e.data["lines"].as_array().cloned().unwrap_or_default())
            .map(|l| l["seq"].as_u64().expect("a seq"))
            .collect();
        assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_filter_keeps_only_that_task() {
    bounded(async {
        let h = Harness::start();
        let long = h.spawn(&h.project("a"), "fake: sleep 30", json!({})).await;
        let mut stream = h.client.events(&format!("/v1/events?task={long}")).await;
        let other = h.spawn(&h.project("b"), "fake: say hi", json!({})).await;
        h.wait(other).await;
        h.client
            .post(&format!("/v1/tasks/{long}/cancel"), &json!(null))
            .await
            .expect(202);
        let seen = stream.until(|e| e.name == "cancelled").await;
        assert!(seen.iter().all(|e| of_task(e, long)), "{seen:?}");
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_gets_a_resync_not_a_gap() {
    bounded(async {
        let h = Harness::start();
        let mut stream = h.client.events("/v1/events").await;
        // The stream is not read while the task floods: the socket fills up, the server stops
        // writing to it, and its receiver falls behind the broadcast channel.
        let lines = 200_000;
        let id = h
            .spawn(
                &h.project("p"),
                &format!("fake: flood {lines}"),
                json!({"format": "text"}),
            )
            .await;
        assert_eq!(h.wait(id).await["status"], "completed");

        let seen = stream
            .until(|e| of_task(e, id) && e.name == "completed")
            .await;
        let resync = seen
            .iter()
            .position(|e| e.name == RESYNC_EVENT)
            .expect("a resync event");
        let skipped = seen[resync].data["skipped"].as_u64().expect("a count");
        assert!(skipped > 0, "{:?}", seen[resync]);
        let received: usize = seen
            .iter()
            .filter(|e| e.name == "output")
            .map(|e| e.data["lines"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(
            received < lines,
            "the server held back {received} lines for a reader that did not read"
        );
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_ends_streams_and_long_polls() {
    bounded(async {
        let mut h = Harness::start();
        let id = h.spawn(&h.project("p"), "fake: sleep 30", json!({})).await;
        let mut stream = h.client.events("/v1/events").await;
        // The long poll's connection is made before another request is answered: the server
        // accepts in order, so it has accepted the long poll's connection too, and a graceful
        // stop still serves that connection's first request.
        let long_poll = h.client.connect().await;
        let uri = format!("/v1/tasks/{id}/wait");
        let waiting =
            tokio::spawn(async move { long_poll.request(Method::GET, &uri, Vec::new()).await });
        h.client.get("/v1/version").await.expect(200);

        h.server.take().expect("a server").stop().await;
        while stream.next().await.is_some() {}
        let reply = waiting.await.expect("the long poll");
        reply.expect_error(503, "ShuttingDown");
        assert!(!h.socket.exists(), "the socket file is removed");
        h.finish().await;
    })
    .await;
}
