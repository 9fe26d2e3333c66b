//! A task run by the app, followed from this terminal over its local API: the output from its
//! event stream, exactly as a local run prints it, its questions asked here, Ctrl-C or SIGTERM
//! cancelling it. If this process dies (SIGKILL, a closed terminal), the task goes on in the
//! app.

use serde_json::{json, Value};
use supervisor::{Approval, ApprovalOutcome, OutputFormat, OutputLine, SpawnRequest, TaskId};
use tasktray_api::client::{Client, ClientError, EventStream};
use tokio::signal::unix::{signal, SignalKind};

use super::approve::{Answer, Approver};
use super::printer::Printer;
use crate::cli::{Approve, OutputArgs};
use crate::{exit, render};

/// Starts `request` in the app and follows it (or, with `detach`, prints its id and returns).
pub(super) async fn run(
    client: &Client,
    request: SpawnRequest,
    output: OutputArgs,
    approve: Option<Approve>,
    detach: bool,
) -> Result<i32, String> {
    // Listening before the spawn, so a Ctrl-C from here on cancels the task.
    let signals = Signals::new()?;
    // Subscribed before the spawn, so not even the first line can be missed.
    let events = match detach {
        true => None,
        false => Some(
            client
                .events("/v1/events")
                .await
                .map_err(|e| e.to_string())?,
        ),
    };
    let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
    let created = client
        .post("/v1/tasks", &body)
        .await
        .map_err(|e| e.to_string())?;
    let id = TaskId(
        created["id"]
            .as_u64()
            .ok_or("Tasktray did not say the task's id")?,
    );
    let Some(events) = events else {
        super::out(&id.to_string());
        if created["status"] == "queued" {
            let then = format!("`taskctl cancel {id}` takes it out of the queue");
            say!("{}", queued_note(client, id, &created, &then).await);
        }
        say!("▶ task {id} runs in Tasktray; `taskctl follow {id}` shows it, `taskctl wait {id}` waits for it");
        return Ok(exit::COMPLETED);
    };
    if !output.json {
        say!(
            "▶ task {id} in {} ({}), run by Tasktray; Ctrl-C cancels",
            request.project_dir.display(),
            request.options.format.as_str()
        );
        if created["status"] == "queued" {
            say!(
                "{}",
                queued_note(client, id, &created, super::run::CTRL_C_UNQUEUES).await
            );
        }
    }
    follow_stream(
        client,
        id,
        request.options.format,
        events,
        signals,
        output,
        approve,
    )
    .await
}

/// Ctrl-C and SIGTERM, listened to from the moment a command may own a task.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, String> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).map_err(|e| e.to_string())?,
            terminate: signal(SignalKind::terminate()).map_err(|e| e.to_string())?,
        })
    }
}

/// Follows a task of the app from where it is now: the output it still holds, then live.
pub(super) async fn follow(
    client: &Client,
    id: TaskId,
    output: OutputArgs,
    approve: Option<Approve>,
) -> Result<i32, String> {
    let signals = Signals::new()?;
    let events = client
        .events(&format!("/v1/events?task={id}"))
        .await
        .map_err(|e| e.to_string())?;
    let task = client
        .get(&format!("/v1/tasks/{id}"))
        .await
        .map_err(|e| e.to_string())?;
    let format: OutputFormat =
        serde_json::from_value(task["options"]["format"].clone()).unwrap_or_default();
    follow_stream(client, id, format, events, signals, output, approve).await
}

async fn follow_stream(
    client: &Client,
    id: TaskId,
    format: OutputFormat,
    mut events: EventStream,
    signals: Signals,
    output: OutputArgs,
    approve: Option<Approve>,
) -> Result<i32, String> {
    let Signals {
        mut interrupt,
        mut terminate,
    } = signals;
    let mut approver = Approver::new(approve);
    let mut printer = Printer::new(format, output, approver.asks_here());
    // Whether it has ended, asked before its output: a task that ended after this answer has
    // its last lines in the stream below; one that ended before has them all in the tail.
    // (Asked after the tail, a quick task could end in between, and its lines, already in the
    // stream, would never be read.)
    let mut finished = record(client, id)
        .await
        .is_some_and(|t| !t.status.is_active());
    // What happened before the subscription: the output still held, the questions open.
    printer.resync(id, &tail(client, id).await);
    let open = client
        .get(&format!("/v1/tasks/{id}/approvals"))
        .await
        .map_err(|e| e.to_string())?;
    printer.flush();
    for approval in approvals(&open) {
        answer(client, approver.requested(approval)).await;
    }
    let mut cancelling = false;
    // The stream's `next`, the line reader and the signal streams are cancel-safe.
    while !finished {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    let task = event.data["task"].as_u64().map(TaskId);
                    if task.is_some_and(|t| t != id) && event.name != "resync" {
                        continue;
                    }
                    match event.name.as_str() {
                        "output" => {
                            let lines: Vec<OutputLine> =
                                serde_json::from_value(event.data["lines"].clone()).unwrap_or_default();
                            for line in &lines {
                                printer.line(id, line);
                            }
                        }
                        "resync" => printer.resync(id, &tail(client, id).await),
                        "approvalRequested" => {
                            printer.json(&event.data);
                            printer.flush();
                            if let Ok(approval) = serde_json::from_value(event.data["approval"].clone()) {
                                answer(client, approver.requested(approval)).await;
                            }
                        }
                        "approvalResolved" => {
                            printer.json(&event.data);
                            let outcome: Option<ApprovalOutcome> =
                                serde_json::from_value(event.data["outcome"].clone()).ok();
                            if let (Some(request), Some(outcome)) = (event.data["request_id"].as_str(), outcome) {
                                approver.resolved(request, outcome);
                            }
                        }
                        "statusChanged" if event.data["status"] == "pending" && !output.json => {
                            say!("▶ task {id} starts");
                        }
                        name => {
                            printer.json(&event.data);
                            finished = matches!(name, "completed" | "failed" | "cancelled" | "removed");
                        }
                    }
                    printer.flush();
                }
                Some(Err(e)) => return Err(e.to_string()),
                // The app stopped serving (it quits).
                None => finished = true,
            },
            line = approver.next_line(), if approver.asking() => answer(client, approver.typed(line)).await,
            _ = interrupt.recv(), if !cancelling => cancelling = cancel(client, id, output).await,
            _ = terminate.recv(), if !cancelling => cancelling = cancel(client, id, output).await,
        }
    }
    printer.flush();
    let done = match record(client, id).await {
        Some(done) => done,
        None => return Err(format!("Tasktray quit while task {id} ran")),
    };
    if !output.json {
        say!("{}", render::summary(&done, super::list::now_ms()));
    }
    Ok(super::wait::exit_code(&done))
}

/// Where a queued task stands in the app's queue, and what it waits for.
async fn queued_note(client: &Client, id: TaskId, task: &Value, then: &str) -> String {
    let listed =
        |page: &Value| -> Vec<Value> { page["tasks"].as_array().cloned().unwrap_or_default() };
    let queued = client
        .get("/v1/tasks?status=queued&limit=1000")
        .await
        .map(|p| listed(&p))
        .unwrap_or_default();
    let place = 1 + queued
        .iter()
        .filter(|t| t["id"].as_u64().is_some_and(|q| q < id.0))
        .count();
    let running = client
        .get("/v1/tasks?status=pending,running,waiting&limit=1000")
        .await
        .map(|p| listed(&p))
        .unwrap_or_default();
    let after = running
        .iter()
        .find(|t| t["project_dir"] == task["project_dir"])
        .and_then(|t| t["id"].as_u64())
        .map(TaskId);
    render::queued_note(id, place, after, then)
}

/// The output the app still holds of the task.
async fn tail(client: &Client, id: TaskId) -> Vec<OutputLine> {
    match client.get(&format!("/v1/tasks/{id}/output")).await {
        Ok(page) => serde_json::from_value(page["lines"].clone()).unwrap_or_default(),
        Err(e) => {
            say!("taskctl: cannot read task {id}'s output: {e}");
            Vec::new()
        }
    }
}

async fn record(client: &Client, id: TaskId) -> Option<supervisor::TaskRecord> {
    let value = client.get(&format!("/v1/tasks/{id}")).await.ok()?;
    serde_json::from_value(value).ok()
}

fn approvals(list: &Value) -> Vec<Approval> {
    serde_json::from_value(list["approvals"].clone()).unwrap_or_default()
}

async fn answer(client: &Client, answers: Vec<Answer>) {
    for (task, request_id, decision) in answers {
        let uri = format!("/v1/tasks/{task}/approvals/{request_id}");
        let body = serde_json::to_value(&decision).unwrap_or(Value::Null);
        if let Err(e) = client.post(&uri, &body).await {
            say!("taskctl: {e}");
        }
    }
}

async fn cancel(client: &Client, id: TaskId, output: OutputArgs) -> bool {
    if !output.json {
        say!("■ cancelling task {id}…");
    }
    match client
        .post(&format!("/v1/tasks/{id}/cancel"), &json!({}))
        .await
    {
        Ok(_) | Err(ClientError::Api { .. }) => {}
        Err(e) => say!("taskctl: {e}"),
    }
    true
}
