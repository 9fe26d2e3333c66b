//! Calling the app's Tauri commands from inside its webview, as the UI does, without knowing
//! the UI: `window.__TAURI_INTERNALS__.invoke` is what `@tauri-apps/api`'s `invoke` calls, and
//! the main window's capability allows Tasktray's own commands. The arguments are those of
//! `src-tauri/src/commands.rs` (top-level names in camelCase, inner structs as serde writes
//! them).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::app::App;
use crate::wait;

/// How long one command may take.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(15);

const INVOKE: &str = r"
const [cmd, args, done] = arguments;
window.__TAURI_INTERNALS__.invoke(cmd, args).then(
  (value) => done({ ok: value === undefined ? null : value }),
  (error) => done({ err: error }),
);";

impl App {
    /// Calls command `cmd`; `Ok(value)`, or `Err` with the `{code, message}` it failed with.
    pub async fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let call = self.client().execute_async(INVOKE, vec![json!(cmd), args]);
        let reply = tokio::time::timeout(INVOKE_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| panic!("{cmd} did not answer within {INVOKE_TIMEOUT:?}"))
            .unwrap_or_else(|e| panic!("cannot run {cmd} in the webview: {e}"));
        match reply.get("ok") {
            Some(value) => Ok(value.clone()),
            None => Err(reply.get("err").cloned().unwrap_or(reply)),
        }
    }

    /// Starts a task (command `spawn_task`); returns its id.
    pub async fn spawn_task(&self, name: &str, prompt: &str, project: &Path) -> u64 {
        let request = json!({ "name": name, "prompt": prompt, "project_dir": project });
        let id = self
            .invoke("spawn_task", json!({ "request": request }))
            .await
            .unwrap_or_else(|e| panic!("spawn_task {name:?} failed: {e}"));
        id.as_u64()
            .unwrap_or_else(|| panic!("spawn_task returned {id}, not an id"))
    }

    /// The task's record (command `get_task`).
    pub async fn task(&self, id: u64) -> Value {
        self.invoke("get_task", json!({ "id": id }))
            .await
            .unwrap_or_else(|e| panic!("get_task {id} failed: {e}"))
    }

    /// Waits until task `id` has status `status`; returns its record.
    pub async fn wait_task_status(&self, id: u64, status: &str, timeout: Duration) -> Value {
        let what = format!("task {id} to be {status}");
        wait::until_async(&what, timeout, || async {
            let task = self.task(id).await;
            if task["status"] == status {
                Ok(task)
            } else {
                Err(task.to_string())
            }
        })
        .await
    }

    /// Asks to cancel task `id` (command `cancel_task`).
    pub async fn cancel_task(&self, id: u64) {
        self.invoke("cancel_task", json!({ "id": id }))
            .await
            .unwrap_or_else(|e| panic!("cancel_task {id} failed: {e}"));
    }
}
