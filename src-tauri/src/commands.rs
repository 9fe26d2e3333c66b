//! The commands the UI calls. Each is thin: read arguments, call the supervisor, map errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use supervisor::{report, Approval, Decision, ProcessRef, SpawnRequest, TaskId, TaskRecord};
use tauri::{AppHandle, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::error::{IpcError, IpcResult};
use crate::models::{AgentInfo, OutputPage, Settings};
use crate::state::AppState;

/// Re-reading the history from disk at most this often when the list is asked for.
const REFRESH_EVERY: Duration = Duration::from_secs(1);
/// How long `claude --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

#[tauri::command]
pub fn list_tasks(state: State<'_, AppState>) -> Vec<TaskRecord> {
    {
        let mut last = state
            .last_refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= REFRESH_EVERY) {
            state.supervisor.refresh();
            *last = Some(Instant::now());
        }
    }
    state.supervisor.all()
}

#[tauri::command]
pub fn get_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<TaskRecord> {
    state
        .supervisor
        .get(id)
        .ok_or_else(|| supervisor::Error::TaskNotFound { id }.into())
}

#[tauri::command]
pub fn task_output(state: State<'_, AppState>, id: TaskId) -> IpcResult<OutputPage> {
    let sup = &state.supervisor;
    let attached = sup.attach(id)?;
    let next_seq = attached
        .snapshot
        .last()
        .map_or(attached.record.line_count, |l| l.seq + 1);
    Ok(OutputPage::new(
        &attached.snapshot,
        attached.record.options.format,
        next_seq,
    ))
}

#[tauri::command]
pub fn task_log_page(
    state: State<'_, AppState>,
    id: TaskId,
    before_seq: u64,
    count: usize,
) -> IpcResult<OutputPage> {
    let sup = &state.supervisor;
    let record = sup.get(id).ok_or(supervisor::Error::TaskNotFound { id })?;
    let lines = sup.log_page(id, before_seq, count.min(5000))?;
    Ok(OutputPage::new(&lines, record.options.format, before_seq))
}

#[tauri::command]
pub fn spawn_task(state: State<'_, AppState>, mut request: SpawnRequest) -> IpcResult<TaskId> {
    state.prepare_spawn(&mut request);
    Ok(state.supervisor.spawn(request)?)
}

/// Every request of every task that waits for the user, oldest first.
#[tauri::command]
pub fn pending_approvals(state: State<'_, AppState>) -> Vec<Approval> {
    state.supervisor.pending_approvals()
}

#[tauri::command]
pub fn answer_approval(
    state: State<'_, AppState>,
    id: TaskId,
    request_id: String,
    decision: Decision,
) -> IpcResult<()> {
    Ok(state.supervisor.answer(id, &request_id, decision)?)
}

/// A message into a running task's session (steering).
#[tauri::command]
pub fn send_message(state: State<'_, AppState>, id: TaskId, message: String) -> IpcResult<()> {
    Ok(state.supervisor.send(id, &message)?)
}

/// Stops the task's current turn; the task then waits for a new instruction.
#[tauri::command]
pub fn interrupt_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    Ok(state.supervisor.interrupt(id)?)
}

/// The app's own process, as a task's `owner` names it: a task whose owner differs is run by
/// another program (`taskctl run --local`), which alone can answer or message it.
#[tauri::command]
pub fn host_process(state: State<'_, AppState>) -> Option<ProcessRef> {
    state.supervisor.host()
}

#[tauri::command]
pub fn cancel_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    Ok(state.supervisor.request_cancel(id)?)
}

#[tauri::command]
pub fn follow_up(state: State<'_, AppState>, id: TaskId, prompt: String) -> IpcResult<TaskId> {
    Ok(state.supervisor.follow_up(id, prompt)?)
}

#[tauri::command]
pub fn remove_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    Ok(state.supervisor.cleanup(id)?)
}

#[tauri::command]
pub fn open_transcript(app: AppHandle, state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    let record = state
        .supervisor
        .get(id)
        .ok_or(supervisor::Error::TaskNotFound { id })?;
    let path = report::transcript_path(&record);
    if !path.is_file() {
        return Err(IpcError::new(
            "NoTranscript",
            format!(
                "the transcript {} is written when the task finishes",
                path.display()
            ),
        ));
    }
    app.opener()
        .open_path(path.to_string_lossy(), None::<&str>)
        .map_err(|e| IpcError::new("Io", format!("cannot open {}: {e}", path.display())))
}

#[tauri::command]
pub fn copy_output(app: AppHandle, state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    let text = state.supervisor.log_text(id)?;
    app.clipboard()
        .write_text(text)
        .map_err(|e| IpcError::new("Io", format!("cannot copy to the clipboard: {e}")))
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

#[tauri::command]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> IpcResult<Settings> {
    Ok(state.save_settings(settings)?)
}

#[tauri::command]
pub async fn detect_agent(
    state: State<'_, AppState>,
    path: Option<String>,
) -> IpcResult<AgentInfo> {
    let explicit = path
        .filter(|p| !p.trim().is_empty())
        .or_else(|| state.settings().agent_path)
        .map(PathBuf::from);
    let found = match supervisor::AgentSearch::from_env(explicit).resolve() {
        Ok(found) => found,
        Err(e) => {
            return Ok(AgentInfo {
                path: None,
                version: None,
                error: Some(e.to_string()),
            })
        }
    };
    let run = tokio::process::Command::new(&found)
        .arg("--version")
        .env_remove("CLAUDECODE")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let (version, error) = match tokio::time::timeout(VERSION_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => (
            Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
            None,
        ),
        Ok(Ok(out)) => (
            None,
            Some(format!(
                "`{} --version` failed: {}",
                found.display(),
                String::from_utf8_lossy(if out.stderr.is_empty() {
                    &out.stdout
                } else {
                    &out.stderr
                })
                .trim()
            )),
        ),
        Ok(Err(e)) => (None, Some(format!("cannot run {}: {e}", found.display()))),
        Err(_) => (
            None,
            Some(format!("`{} --version` did not answer", found.display())),
        ),
    };
    Ok(AgentInfo {
        path: Some(found.display().to_string()),
        version,
        error,
    })
}

#[tauri::command]
pub fn recent_projects(state: State<'_, AppState>) -> Vec<String> {
    let mut seen = Vec::new();
    for task in state.supervisor.all() {
        let dir = task.project_dir.display().to_string();
        if !seen.contains(&dir) && task.project_dir.is_dir() {
            seen.push(dir);
        }
        if seen.len() == 10 {
            break;
        }
    }
    seen
}

#[tauri::command]
pub async fn pick_folder(app: AppHandle) -> Option<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Choose the project folder")
        .pick_folder(move |folder| {
            let _ = tx.send(folder);
        });
    let folder = rx.await.ok().flatten()?;
    folder.into_path().ok().map(|p| p.display().to_string())
}

#[tauri::command]
pub fn quit_app(app: AppHandle) {
    crate::lifecycle::quit_now(&app);
}
