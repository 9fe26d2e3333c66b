//! `taskctl wait ID`: until the task ends, whoever runs it. Through the app's API when it
//! answers (a long poll); else by reading the shared history until the task is no longer
//! active (or the process that ran it is gone).

use std::time::Duration;

use supervisor::{TaskId, TaskRecord, TaskStatus};
use tasktray_api::client::{Client, ClientError};

use crate::cli::TaskArgs;
use crate::{exit, render};

/// How long one long poll of the API lasts before it is asked again.
const POLL_MS: u64 = 60_000;
/// How often the history is read again without the app.
const HISTORY_EVERY: Duration = Duration::from_millis(200);

pub fn wait(args: TaskArgs) -> Result<i32, String> {
    let id = super::parse_id(&args.id)?;
    let done = super::with_app(async |client| match until_ended(client, id).await {
        Err(ClientError::NotRunning { .. }) => from_history(id).await,
        other => other.map_err(|e| e.to_string()),
    })?;
    say!("{}", render::summary(&done, super::list::now_ms()));
    Ok(exit_code(&done))
}

/// The exit code `run` gives a task that ended so.
pub(super) fn exit_code(task: &TaskRecord) -> i32 {
    match render::shown_status(task) {
        TaskStatus::Completed => exit::COMPLETED,
        TaskStatus::Cancelled => exit::CANCELLED,
        _ => exit::FAILED,
    }
}

/// Long-polls the app until task `id` has ended; returns its final record.
pub(super) async fn until_ended(client: &Client, id: TaskId) -> Result<TaskRecord, ClientError> {
    loop {
        let uri = format!("/v1/tasks/{id}/wait?timeout_ms={POLL_MS}");
        let record = client.get(&uri).await?;
        let record: TaskRecord =
            serde_json::from_value(record).map_err(|e| ClientError::Transport {
                path: client.path().to_path_buf(),
                what: format!("an unexpected answer: {e}"),
            })?;
        if !record.status.is_active() {
            return Ok(record);
        }
    }
}

async fn from_history(id: TaskId) -> Result<TaskRecord, String> {
    let history = super::history()?;
    loop {
        let task = history.load(id).map_err(|e| e.to_string())?;
        if !render::shown_status(&task).is_active() {
            return Ok(task);
        }
        tokio::time::sleep(HISTORY_EVERY).await;
    }
}
