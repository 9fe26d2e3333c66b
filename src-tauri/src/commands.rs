//! The commands the UI calls. Each is thin: read arguments, call the supervisor, map errors.
//! Sync commands run on the window's thread, so only those that touch memory alone are sync;
//! whatever reads or writes a file, takes a lock or starts a process runs on the blocking pool
//! ([`off_main`]).

use std::path::PathBuf;
use std::time::Duration;

use supervisor::{
    report, Approval, Decision, ProcessRef, SpawnRequest, TaskId, TaskPage, TaskQuery, TaskRecord,
};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::error::{IpcError, IpcResult};
use crate::models::{AgentInfo, Draft, OutputPage, Settings};
use crate::state::{AppState, KeptDraft};

/// How long `claude --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `work` on the blocking pool, so the window's thread never waits on a disk or a lock.
pub(crate) async fn off_main<T: Send + 'static>(
    work: impl FnOnce() -> IpcResult<T> + Send + 'static,
) -> IpcResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| IpcError::new("Io", format!("the work stopped unexpectedly: {e}")))?
}

/// One page of the tasks that match `query`, newest first, from the history's index (the
/// tasks other programs run are kept up to date by the supervisor itself).
#[tauri::command]
pub async fn list_tasks(state: State<'_, AppState>, query: TaskQuery) -> IpcResult<TaskPage> {
    let supervisor = state.supervisor.clone();
    off_main(move || Ok(supervisor.list(&query)?)).await
}

/// One task; a finished one is read from the history, so off the main thread.
#[tauri::command]
pub async fn get_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<TaskRecord> {
    let supervisor = state.supervisor.clone();
    off_main(move || {
        supervisor
            .get(id)
            .ok_or_else(|| supervisor::Error::TaskNotFound { id }.into())
    })
    .await
}

#[tauri::command]
pub async fn task_output(
    state: State<'_, AppState>,
    id: TaskId,
    tail: Option<usize>,
) -> IpcResult<OutputPage> {
    let sup = state.supervisor.clone();
    off_main(move || task_output_now(&sup, id, tail)).await
}

/// With `tail`, only the newest `tail` lines of what the ring holds: the window draws at most
/// a few thousand, and following a flood only the last hundred, so the rest would only be
/// converted, sent and parsed for nothing (up to 20 times a second while a task floods).
fn task_output_now(
    sup: &supervisor::Supervisor,
    id: TaskId,
    tail: Option<usize>,
) -> IpcResult<OutputPage> {
    let attached = sup.attach(id)?;
    let next_seq = attached
        .snapshot
        .last()
        .map_or(attached.record.line_count, |l| l.seq + 1);
    let lines = &attached.snapshot;
    let from = lines.len().saturating_sub(tail.unwrap_or(usize::MAX));
    Ok(OutputPage::new(
        &lines[from..],
        attached.record.options.format,
        next_seq,
    ))
}

#[tauri::command]
pub async fn task_log_page(
    state: State<'_, AppState>,
    id: TaskId,
    before_seq: u64,
    count: usize,
) -> IpcResult<OutputPage> {
    let sup = state.supervisor.clone();
    off_main(move || {
        let record = sup.get(id).ok_or(supervisor::Error::TaskNotFound { id })?;
        let lines = sup.log_page(id, before_seq, count.min(5000))?;
        Ok(OutputPage::new(&lines, record.options.format, before_seq))
    })
    .await
}

#[tauri::command]
pub async fn spawn_task(
    state: State<'_, AppState>,
    mut request: SpawnRequest,
) -> IpcResult<TaskId> {
    state.prepare_spawn(&mut request);
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.spawn(request)?)).await
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
pub async fn cancel_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.request_cancel(id)?)).await
}

#[tauri::command]
pub async fn follow_up(
    state: State<'_, AppState>,
    id: TaskId,
    prompt: String,
) -> IpcResult<TaskId> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.follow_up(id, prompt)?)).await
}

#[tauri::command]
pub async fn remove_task(state: State<'_, AppState>, id: TaskId) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || Ok(sup.cleanup(id)?)).await
}

#[tauri::command]
pub async fn open_transcript(
    app: AppHandle,
    state: State<'_, AppState>,
    id: TaskId,
) -> IpcResult<()> {
    let record = state
        .supervisor
        .get(id)
        .ok_or(supervisor::Error::TaskNotFound { id })?;
    off_main(move || {
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
            .map_err(|e| {
                IpcError::new(
                    "NoViewer",
                    format!(
                        "no program is set to open Markdown files ({e}); the transcript is {}",
                        path.display()
                    ),
                )
            })
    })
    .await
}

/// The most a copy puts on the clipboard; more is offered as a file (X11 refuses requests of
/// tens of MiB, and a paste of that much hangs the pasting program).
pub const CLIPBOARD_MAX_BYTES: usize = 4 * 1024 * 1024;

/// Copies the task's output to the clipboard: the readable transcript, or with `raw` the
/// agent's own lines (as the view shows them). Too much for the clipboard is a
/// `TooLargeToCopy` error: the UI offers "Save output as…" instead.
#[tauri::command]
pub async fn copy_output(
    app: AppHandle,
    state: State<'_, AppState>,
    id: TaskId,
    raw: Option<bool>,
) -> IpcResult<()> {
    let sup = state.supervisor.clone();
    off_main(move || {
        let task = sup.get(id).ok_or(supervisor::Error::TaskNotFound { id })?;
        let mut text = Capped::default();
        match report::write_output(sup.history(), &task, raw.unwrap_or(false), &mut text) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                return Err(IpcError::new(
                    "TooLargeToCopy",
                    format!(
                        "the output is more than {} MiB, too much for the clipboard: save it to a file instead",
                        CLIPBOARD_MAX_BYTES / (1024 * 1024)
                    ),
                ));
            }
            Err(e) => return Err(IpcError::new("Io", format!("cannot read the output: {e}"))),
        }
        let text = String::from_utf8_lossy(&text.0).into_owned();
        app.clipboard()
            .write_text(text)
            .map_err(|e| IpcError::new("Io", format!("cannot copy to the clipboard: {e}")))
    })
    .await
}

/// Bytes up to [`CLIPBOARD_MAX_BYTES`]; a write beyond is a `FileTooLarge` error.
#[derive(Default)]
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > CLIPBOARD_MAX_BYTES {
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Saves the task's output (readable, or with `raw` the agent's own lines) to a file the user
/// picks; `false` when the dialog was cancelled.
#[tauri::command]
pub async fn save_output(
    app: AppHandle,
    state: State<'_, AppState>,
    id: TaskId,
    raw: Option<bool>,
) -> IpcResult<bool> {
    let task = state
        .supervisor
        .get(id)
        .ok_or(supervisor::Error::TaskNotFound { id })?;
    let raw = raw.unwrap_or(false);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let name = format!("task-{id}-output.{}", if raw { "jsonl" } else { "md" });
    app.dialog()
        .file()
        .set_title("Save the output as")
        .set_file_name(&name)
        .save_file(move |path| {
            let _ = tx.send(path);
        });
    let Some(path) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(false);
    };
    let sup = state.supervisor.clone();
    off_main(move || {
        let write = || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
            report::write_output(sup.history(), &task, raw, &mut out)?;
            std::io::Write::flush(&mut out)
        };
        write().map_err(|e| {
            IpcError::new(
                "Io",
                format!("cannot save the output to {}: {e}", path.display()),
            )
        })?;
        Ok(true)
    })
    .await
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

#[tauri::command]
pub async fn save_settings(app: AppHandle, settings: Settings) -> IpcResult<Settings> {
    // A small file written with fsync: quick, but a disk can stall; the window does not.
    off_main(move || Ok(app.state::<AppState>().save_settings(settings)?)).await
}

#[tauri::command]
pub async fn detect_agent(
    state: State<'_, AppState>,
    path: Option<String>,
) -> IpcResult<AgentInfo> {
    let explicit = path
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .or_else(|| state.settings().agent_path)
        .map(PathBuf::from);
    // As saving the setting checks it.
    if let Some(relative) = explicit.as_ref().filter(|p| !p.is_absolute()) {
        return Ok(AgentInfo {
            path: None,
            version: None,
            error: Some(format!(
                "the agent path must be absolute, got {}",
                relative.display()
            )),
        });
    }
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

/// Folders the form offers.
const RECENT_PROJECTS: usize = 10;

#[tauri::command]
pub async fn recent_projects(state: State<'_, AppState>) -> IpcResult<Vec<String>> {
    let sup = state.supervisor.clone();
    off_main(move || {
        // A few more than shown: folders removed since are left out.
        let recent = sup.recent_projects(RECENT_PROJECTS * 2)?;
        Ok(recent
            .into_iter()
            .filter(|dir| dir.is_dir())
            .take(RECENT_PROJECTS)
            .map(|dir| dir.display().to_string())
            .collect())
    })
    .await
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

/// Keeps the New task form's draft in the app's memory while the window is gone (`None`:
/// forget it, the task was started). Memory only, so sync: the form calls it on every edit.
#[tauri::command]
pub fn keep_draft(kept: State<'_, KeptDraft>, draft: Option<Draft>) {
    kept.keep(draft);
}

/// The draft the form had when its window was closed, for the form of the next window.
#[tauri::command]
pub fn get_draft(kept: State<'_, KeptDraft>) -> Option<Draft> {
    kept.get()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_copy_holds_at_most_the_clipboard_limit() {
        let mut text = Capped::default();
        let line = vec![b'x'; 1024];
        for _ in 0..CLIPBOARD_MAX_BYTES / 1024 {
            text.write_all(&line).expect("within the limit");
        }
        let over = text
            .write_all(b"one more byte")
            .expect_err("over the limit");
        assert_eq!(over.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(text.0.len(), CLIPBOARD_MAX_BYTES);
    }
}
