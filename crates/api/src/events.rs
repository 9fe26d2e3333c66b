//! `GET /v1/events`: the supervisor's events as Server-Sent Events.
//!
//! Each event's SSE `event:` name is its `type` (`spawned`, `started`, `output`, `completed`,
//! `failed`, `cancelled`, `removed`, `statusChanged`, `approvalRequested`, `approvalResolved`,
//! `persistFailed`) and its `data:` is the event as JSON. A stream holds one broadcast receiver
//! and nothing more: a reader that falls more than the channel's capacity behind gets a
//! [`RESYNC_EVENT`] with the number of events it missed, never a silent gap, and the server
//! never queues more for it. Comments keep idle connections alive.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use supervisor::{Event, TaskId};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::server::AppState;
use crate::types::ResyncEvent;

/// How often an idle stream gets a keep-alive comment.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// The SSE event name that says events were missed: re-read state.
pub const RESYNC_EVENT: &str = "resync";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Only this task's events (and `resync`).
    task: Option<u64>,
}

/// Server-Sent Events of every task, or of one with `?task=`.
///
/// The stream starts with a `: subscribed` comment: from then on no event is missed. To follow a task's output
/// without gaps or repeats, subscribe first, then read `GET /v1/tasks/{id}/output` and skip
/// lines whose `seq` is below its `next_seq`. A `resync` event (data `{"skipped": n}`) means
/// the reader fell behind and events were dropped: re-read what you show.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "streamEvents",
    params(EventsQuery),
    responses(
        (status = 200, description = "An event stream; each `data:` is an Event, or a ResyncEvent for `event: resync`",
            content_type = "text/event-stream", body = Event),
        (status = 400, description = "InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError)))]
pub(crate) async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let task = query.task.map(TaskId);
    if let Some(id) = task {
        state
            .supervisor
            .get(id)
            .ok_or_else(|| ApiError::task_not_found(id))?;
    }
    let reader = Reader {
        receiver: state.supervisor.subscribe(),
        task,
        shutdown: state.shutdown.clone(),
    };
    let hello = stream::iter([Ok(SseEvent::default().comment("subscribed"))]);
    let events = stream::unfold(reader, |mut reader| async move {
        let event = reader.next().await?;
        Some((Ok(event), reader))
    });
    Ok(Sse::new(hello.chain(events)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE_INTERVAL)))
}

/// One client's view of the broadcast channel.
struct Reader {
    receiver: broadcast::Receiver<Event>,
    task: Option<TaskId>,
    shutdown: CancellationToken,
}

impl Reader {
    /// The next event for this client; `None` ends the stream (the server stops).
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            let received = tokio::select! {
                () = self.shutdown.cancelled() => return None,
                received = self.receiver.recv() => received,
            };
            match received {
                Ok(event) if self.task.is_none_or(|t| event.task() == t) => {
                    if let Some(sse) = to_sse(&event) {
                        return Some(sse);
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(skipped)) => return Some(resync(skipped)),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// The `type` of an event, read back from its JSON (the enum is the core's, and open).
#[derive(Deserialize)]
struct Tag {
    #[serde(rename = "type")]
    kind: String,
}

fn to_sse(event: &Event) -> Option<SseEvent> {
    let sent = serde_json::to_string(event).and_then(|data| {
        let tag: Tag = serde_json::from_str(&data)?;
        Ok((tag.kind, data))
    });
    match sent {
        Ok((name, data)) => Some(SseEvent::default().event(name).data(data)),
        Err(e) => {
            tracing::warn!("api: an event of task {} cannot be sent: {e}", event.task());
            None
        }
    }
}

fn resync(skipped: u64) -> SseEvent {
    let data = serde_json::json!(ResyncEvent { skipped });
    SseEvent::default()
        .event(RESYNC_EVENT)
        .data(data.to_string())
}
