//! The clients of benchmark 6 (API under load), in the driver's process: a prober that times
//! API round trips, and followers that read `GET /v1/events` as a UI or a script would.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tasktray_api::client::Client;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::harness::{ms, Result};

/// The pause between two probes: a client that polls, not one that floods.
const PROBE_GAP: Duration = Duration::from_millis(5);

/// The list request the prober times (a full page, as a client's first look).
pub const LIST_URI: &str = "/v1/tasks?limit=50";

/// Round trips of the two probe requests, in ms: `GET /v1/tasks?limit=50` and
/// `GET /v1/tasks/{id}`, alternating, each on a new connection (as the API client does).
/// Each sample says whether it was sent while the burst of spawns was being sent.
#[derive(Debug, Default)]
pub struct Probed {
    pub list_ms: Vec<(bool, f64)>,
    pub get_ms: Vec<(bool, f64)>,
    pub errors: usize,
    pub first_error: Option<String>,
}

/// A prober on a thread of its own, with its own single-threaded runtime, so its timings do
/// not include waiting for the driver's other tasks (the followers, the senders).
#[derive(Debug)]
pub struct Prober {
    stop: Arc<AtomicBool>,
    burst: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<Probed>>,
}

impl Prober {
    /// Probes `count` times, or until stopped; `GET /v1/tasks/{id}` cycles through `ids`.
    pub fn start(client: Client, ids: Vec<u64>, count: Option<usize>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let burst = Arc::new(AtomicBool::new(false));
        let (stop_flag, burst_flag) = (stop.clone(), burst.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(probe(client, ids, count, stop_flag, burst_flag))
        });
        Prober {
            stop,
            burst,
            thread,
        }
    }

    /// Files the next samples under the burst as well, or no longer.
    pub fn burst(&self, on: bool) {
        self.burst.store(on, Ordering::Relaxed);
    }

    /// Stops (a counted prober may have stopped already) and returns the samples.
    pub async fn finish(self) -> Result<Probed> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| "the prober panicked")?
    }

    /// Waits for a counted prober to be done.
    pub async fn wait(self) -> Result<Probed> {
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| "the prober panicked")?
    }
}

async fn probe(
    client: Client,
    ids: Vec<u64>,
    count: Option<usize>,
    stop: Arc<AtomicBool>,
    burst: Arc<AtomicBool>,
) -> Result<Probed> {
    if ids.is_empty() {
        return Err("the prober needs a task to read".into());
    }
    let mut out = Probed::default();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) || count.is_some_and(|n| i >= n) {
            break;
        }
        let list = i % 2 == 0;
        let uri = match list {
            true => LIST_URI.to_owned(),
            false => format!("/v1/tasks/{}", ids[(i / 2) % ids.len()]),
        };
        let in_burst = burst.load(Ordering::Relaxed);
        let start = Instant::now();
        match client.get(&uri).await {
            Ok(_) => {
                let took = ms(start.elapsed());
                match list {
                    true => out.list_ms.push((in_burst, took)),
                    false => out.get_ms.push((in_burst, took)),
                }
            }
            Err(e) => {
                out.errors += 1;
                out.first_error
                    .get_or_insert_with(|| format!("GET {uri}: {e}"));
            }
        }
        tokio::time::sleep(PROBE_GAP).await;
    }
    Ok(out)
}

/// What one follower of the event stream saw.
#[derive(Debug, Default)]
pub struct Followed {
    pub connected: bool,
    /// Tasks whose `completed`, `failed` or `cancelled` event arrived.
    pub finished: HashSet<u64>,
    pub events: u64,
    pub resyncs: u64,
    /// Events the `resync` events said were dropped.
    pub skipped: u64,
    /// The `removed` event of the sentinel task arrived: everything sent before it was read.
    pub saw_sentinel: bool,
    /// A transport error, or the stream ended early.
    pub error: Option<String>,
}

/// Clients that follow `GET /v1/events`, each on its own connection and tokio task, reading
/// every event as it comes.
#[derive(Debug)]
pub struct Followers {
    handles: Vec<JoinHandle<Followed>>,
    stop: watch::Sender<bool>,
    /// Followers whose stream was subscribed.
    pub connected: usize,
    /// Time to open them all.
    pub connect_ms: f64,
}

impl Followers {
    /// Opens `n` streams at once and returns when each is subscribed (or failed, or
    /// `timeout` passed). Each ends at the `removed` event of task `sentinel`.
    pub async fn connect(client: &Client, n: usize, sentinel: u64, timeout: Duration) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let start = Instant::now();
        let mut handles = Vec::with_capacity(n);
        let mut subscribed = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = oneshot::channel();
            handles.push(tokio::spawn(follow(
                client.clone(),
                sentinel,
                stop_rx.clone(),
                tx,
            )));
            subscribed.push(rx);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let mut connected = 0;
        for rx in subscribed {
            if let Ok(Ok(true)) = tokio::time::timeout_at(deadline, rx).await {
                connected += 1;
            }
        }
        Followers {
            handles,
            stop,
            connected,
            connect_ms: ms(start.elapsed()),
        }
    }

    /// Waits up to `timeout` for every follower to reach the sentinel, then stops the others,
    /// and returns what each saw.
    pub async fn finish(self, timeout: Duration) -> Vec<Followed> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut out = Vec::with_capacity(self.handles.len());
        for mut handle in self.handles {
            let joined = match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(joined) => joined,
                Err(_) => {
                    let _ = self.stop.send(true);
                    handle.await
                }
            };
            out.push(joined.unwrap_or_else(|e| Followed {
                error: Some(format!("the follower failed: {e}")),
                ..Followed::default()
            }));
        }
        out
    }
}

async fn follow(
    client: Client,
    sentinel: u64,
    mut stop: watch::Receiver<bool>,
    subscribed: oneshot::Sender<bool>,
) -> Followed {
    let mut out = Followed::default();
    let mut stream = match client.events("/v1/events").await {
        Ok(stream) => stream,
        Err(e) => {
            out.error = Some(e.to_string());
            let _ = subscribed.send(false);
            return out;
        }
    };
    out.connected = true;
    let _ = subscribed.send(true);
    loop {
        // `next` is cancel-safe.
        let next = tokio::select! {
            next = stream.next() => next,
            _ = stop.changed() => break,
        };
        let event = match next {
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                out.error = Some(e.to_string());
                break;
            }
            None => {
                out.error = Some("the server ended the stream".into());
                break;
            }
        };
        out.events += 1;
        let task = event.data["task"].as_u64();
        match event.name.as_str() {
            "completed" | "failed" | "cancelled" => {
                if let Some(task) = task {
                    out.finished.insert(task);
                }
            }
            tasktray_api::RESYNC_EVENT => {
                out.resyncs += 1;
                out.skipped += event.data["skipped"].as_u64().unwrap_or(0);
            }
            "removed" if task == Some(sentinel) => {
                out.saw_sentinel = true;
                break;
            }
            _ => {}
        }
    }
    out
}
