//! Desktop notifications when a task completes or fails (never for one the user cancelled),
//! and for each request of an agent that waits for the user, with Allow, Deny and Show. A
//! request's notification is closed when it is resolved elsewhere (the window, the tray,
//! `taskctl`, the timeout).
//!
//! Each notification lives in its own small tokio task that holds the handle, and with it the
//! D-Bus connection, until the user acts on it or it closes: GNOME drops a notification whose
//! sender went away, and the "Show" action needs the connection to arrive. Every call to the
//! server is bounded: a server that never answers is logged and never blocks the app.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use notify_rust::{Notification, NotificationResponse, Timeout, Urgency};
use supervisor::{Approval, Decision, TaskId, TaskRecord, TaskStatus};
use tauri::{AppHandle, Manager};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

use supervisor::text::{duration, shorten};
use supervisor::transcript::denied_text;

use crate::lifecycle;
use crate::models::Navigate;

/// How long the notification server gets to accept a notification.
const SHOW_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a notification's handle is kept for its "Show" action.
const KEEP_FOR: Duration = Duration::from_secs(3600);
/// How many finished tasks' notifications are listened to for "Show" at once: the newest.
const KEPT_MAX: usize = 20;
/// The body shows at most this much of the result or error.
const BODY_CHARS: usize = 200;

/// The text of a task's notification, or `None` when there is none to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub summary: String,
    pub body: String,
}

impl Note {
    pub fn for_task(task: &TaskRecord, now_ms: u64) -> Option<Note> {
        let took = duration(task.duration_ms(now_ms));
        let (mark, word) = match task.status {
            TaskStatus::Completed => ("✓", "Completed"),
            TaskStatus::Failed => ("✗", "Failed"),
            _ => return None,
        };
        let body = match task.status {
            TaskStatus::Completed => task
                .result
                .as_ref()
                .map(|r| r.text.clone())
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "The task finished.".to_owned()),
            _ => task
                .failure
                .clone()
                .or_else(|| task.error.clone())
                .or_else(|| {
                    task.result
                        .as_ref()
                        .filter(|r| r.is_error)
                        .map(|r| r.text.clone())
                })
                .or_else(|| task.exit.map(|e| format!("The agent ended with {e}.")))
                .unwrap_or_else(|| "The task failed.".to_owned()),
        };
        let mut body = shorten(body.trim(), BODY_CHARS);
        // Refused tools do not fail a task, but the user should know before trusting it.
        if let Some(denied) = task
            .result
            .as_ref()
            .map(|r| r.denied_tools)
            .filter(|n| *n > 0)
        {
            body.push_str(&format!("\n({})", denied_text(denied)));
        }
        Some(Note {
            summary: format!("{mark} {word}: {} ({took})", task.name),
            body,
        })
    }
}

/// Whether the server reads markup in bodies (its `body-markup` capability): agent output such
/// as `<b>` or a bare `&` must then be escaped to show as written. Asked once; a server that
/// does not answer in time is taken to read markup, since escaping is then the safe side.
async fn body_markup() -> bool {
    static MARKUP: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();
    *MARKUP
        .get_or_init(|| async {
            let ask = tokio::task::spawn_blocking(notify_rust::get_capabilities);
            match tokio::time::timeout(SHOW_TIMEOUT, ask).await {
                Ok(Ok(Ok(capabilities))) => capabilities.iter().any(|c| c == "body-markup"),
                _ => true,
            }
        })
        .await
}

/// Text as it must be sent to a server that reads markup.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sends `notification` with the note's text (escaped for a server that reads markup), bounded
/// by [`SHOW_TIMEOUT`]; `None` when the server refused it or did not answer (logged).
async fn show(
    mut notification: Notification,
    note: &Note,
    task: TaskId,
) -> Option<notify_rust::NotificationHandle> {
    let body = if body_markup().await {
        escape_markup(&note.body)
    } else {
        note.body.clone()
    };
    notification
        .appname("Tasktray")
        .summary(&note.summary)
        .body(&body);
    match tokio::time::timeout(SHOW_TIMEOUT, notification.show_async()).await {
        Ok(Ok(handle)) => {
            tracing::info!("notified: {}", note.summary);
            Some(handle)
        }
        Ok(Err(e)) => {
            tracing::warn!("notification for task {task} not shown: {e}");
            None
        }
        Err(_) => {
            tracing::warn!("notification server did not answer within {SHOW_TIMEOUT:?}");
            None
        }
    }
}

/// Shows the notification for a finished task, if it gets one.
pub fn task_finished(app: &AppHandle, task: &TaskRecord, now_ms: u64) {
    let Some(note) = Note::for_task(task, now_ms) else {
        return;
    };
    let app = app.clone();
    let id = task.id;
    tauri::async_runtime::spawn(async move {
        let mut notification = Notification::new();
        notification
            .icon("dialog-information")
            .action("default", "Show")
            .action("show", "Show")
            .timeout(Timeout::Default);
        let Some(handle) = show(notification, &note, id).await else {
            return;
        };
        let wait = handle.wait_for_action_async(|response: &NotificationResponse| {
            let show = match response {
                NotificationResponse::Default => true,
                NotificationResponse::Action(action) => action == "show",
                _ => false,
            };
            if show {
                lifecycle::navigate(&app, Navigate::Task { id });
            }
        });
        let (key, pushed_out) = lock_kept().keep();
        // Listened to for an hour at most, and only while among the newest few.
        tokio::select! {
            () = wait => {}
            () = pushed_out.cancelled() => {}
            () = tokio::time::sleep(KEEP_FOR) => {}
        }
        lock_kept().release(key);
    });
}

/// The finished tasks' notifications whose Show action is listened to, oldest first; a new
/// one beyond [`KEPT_MAX`] stops the oldest's listener (its notification stays on screen).
#[derive(Debug, Default)]
struct Kept {
    listening: std::collections::VecDeque<(u64, CancellationToken)>,
    next: u64,
}

impl Kept {
    fn keep(&mut self) -> (u64, CancellationToken) {
        self.next += 1;
        let token = CancellationToken::new();
        self.listening.push_back((self.next, token.clone()));
        while self.listening.len() > KEPT_MAX {
            if let Some((_, oldest)) = self.listening.pop_front() {
                oldest.cancel();
            }
        }
        (self.next, token)
    }

    fn release(&mut self, key: u64) {
        self.listening.retain(|(k, _)| *k != key);
    }
}

fn lock_kept() -> std::sync::MutexGuard<'static, Kept> {
    static KEPT: OnceLock<Mutex<Kept>> = OnceLock::new();
    KEPT.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The title and body of a request's notification.
pub fn approval_note(approval: &Approval) -> Note {
    let verb = if approval.tool == "Bash" {
        "run"
    } else {
        "use"
    };
    let mut body = shorten(&approval.summary(), BODY_CHARS);
    if let Some(path) = &approval.blocked_path {
        body.push_str(&format!("\n(touches {path})"));
    }
    Note {
        summary: format!("Task #{} asks to {verb} {}", approval.task, approval.tool),
        body,
    }
}

/// Open request notifications, by task and request id: cancelling the token closes it.
fn open_requests() -> &'static Mutex<HashMap<(TaskId, String), CancellationToken>> {
    static OPEN: OnceLock<Mutex<HashMap<(TaskId, String), CancellationToken>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
}

fn lock_open() -> std::sync::MutexGuard<'static, HashMap<(TaskId, String), CancellationToken>> {
    open_requests()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Shows a request's notification: Allow and Deny answer it, Show (or a click, on servers
/// without actions) opens the task.
pub fn approval_requested(app: &AppHandle, approval: &Approval) {
    let note = approval_note(approval);
    let (task, request_id) = (approval.task, approval.request_id.clone());
    let closed = CancellationToken::new();
    lock_open().insert((task, request_id.clone()), closed.clone());
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut notification = Notification::new();
        notification
            .icon("dialog-question")
            .action("default", "Show")
            .action("allow", "Allow")
            .action("deny", "Deny")
            .action("show", "Show")
            .urgency(Urgency::Critical)
            .timeout(Timeout::Never);
        if let Some(handle) = show(notification, &note, task).await {
            let act = |response: &NotificationResponse| {
                let action = match response {
                    NotificationResponse::Default => "show",
                    NotificationResponse::Action(action) => action.as_str(),
                    _ => return,
                };
                let decision = match action {
                    "allow" => Decision::Allow,
                    "deny" => Decision::Deny { message: None },
                    _ => {
                        lifecycle::navigate(&app, Navigate::Task { id: task });
                        return;
                    }
                };
                let state = app.state::<AppState>();
                if let Err(e) = state.supervisor.answer(task, &request_id, decision) {
                    tracing::warn!("answer from a notification of task {task}: {e}");
                }
            };
            // Both branches are cancel-safe: the wait only listens, and the token can be
            // polled again.
            tokio::select! {
                () = handle.wait_for_action_async(act) => {}
                () = closed.cancelled() => {
                    let close = handle.close_async();
                    if tokio::time::timeout(SHOW_TIMEOUT, close).await.is_err() {
                        tracing::warn!("notification server did not close a request in time");
                    }
                }
                () = tokio::time::sleep(KEEP_FOR) => {}
            }
        }
        lock_open().remove(&(task, request_id));
    });
}

/// Closes a request's notification: it was answered, timed out or withdrawn.
pub fn approval_resolved(_app: &AppHandle, task: TaskId, request_id: &str) {
    if let Some(closed) = lock_open().remove(&(task, request_id.to_owned())) {
        closed.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use supervisor::{ExitInfo, ResultSummary};

    #[test]
    fn only_the_newest_finished_notifications_are_listened_to() {
        let mut kept = Kept::default();
        let tokens: Vec<_> = (0..KEPT_MAX + 3).map(|_| kept.keep()).collect();
        let stopped: Vec<bool> = tokens.iter().map(|(_, t)| t.is_cancelled()).collect();
        assert!(
            stopped[..3].iter().all(|s| *s),
            "the three oldest stop listening"
        );
        assert!(
            stopped[3..].iter().all(|s| !*s),
            "the newest keep listening"
        );
        assert_eq!(kept.listening.len(), KEPT_MAX);
        // One that ends by itself leaves room: the next does not push another out.
        kept.release(tokens[5].0);
        let (_, newest) = kept.keep();
        assert!(!tokens[6].1.is_cancelled() && !newest.is_cancelled());
        assert_eq!(kept.listening.len(), KEPT_MAX);
    }

    #[test]
    fn a_request_says_who_asks_for_what() {
        let approval = Approval {
            task: TaskId(3),
            request_id: "r".into(),
            tool: "Bash".into(),
            input: serde_json::json!({"command": "echo made > made.txt"}),
            description: None,
            suggestions: Vec::new(),
            blocked_path: Some("/p/made.txt".into()),
            requested_at_ms: 0,
            expires_at_ms: None,
        };
        let note = approval_note(&approval);
        assert_eq!(note.summary, "Task #3 asks to run Bash");
        assert_eq!(note.body, "echo made > made.txt\n(touches /p/made.txt)");
        let write = Approval {
            tool: "Write".into(),
            input: serde_json::json!({"file_path": "/p/new.txt", "content": "hi"}),
            blocked_path: None,
            ..approval
        };
        let note = approval_note(&write);
        assert_eq!(note.summary, "Task #3 asks to use Write");
        assert_eq!(note.body, "/p/new.txt");
    }

    fn task(status: TaskStatus) -> TaskRecord {
        TaskRecord {
            started_at_ms: Some(1_000),
            finished_at_ms: Some(66_000),
            exit: Some(ExitInfo::Code(1)),
            ..crate::fixtures::task(3, status, "Fix login")
        }
    }

    #[test]
    fn markup_in_agent_output_is_escaped() {
        assert_eq!(
            escape_markup("<img src=x onerror=alert(1)> & <b>bold</b>"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        );
    }

    #[test]
    fn titles_and_bodies() {
        let mut done = task(TaskStatus::Completed);
        done.result = Some(ResultSummary {
            text: "All tests pass.".into(),
            ..ResultSummary::default()
        });
        let note = Note::for_task(&done, 0).expect("a note");
        assert_eq!(note.summary, "✓ Completed: Fix login (1m 05s)");
        assert_eq!(note.body, "All tests pass.");

        let mut failed = task(TaskStatus::Failed);
        failed.result = Some(ResultSummary {
            is_error: true,
            text: "API Error: 500".into(),
            ..ResultSummary::default()
        });
        let note = Note::for_task(&failed, 0).expect("a note");
        assert_eq!(note.summary, "✗ Failed: Fix login (1m 05s)");
        assert_eq!(note.body, "API Error: 500");

        let bare = task(TaskStatus::Failed);
        assert_eq!(
            Note::for_task(&bare, 0).expect("a note").body,
            "The agent ended with exit code 1."
        );
        assert_eq!(
            Note::for_task(&task(TaskStatus::Cancelled), 0),
            None,
            "no notice for a cancel"
        );

        let mut refused = task(TaskStatus::Completed);
        refused.result = Some(ResultSummary {
            text: "Could not write it.".into(),
            denied_tools: 2,
            ..ResultSummary::default()
        });
        assert_eq!(
            Note::for_task(&refused, 0).expect("a note").body,
            "Could not write it.\n(2 tools refused)"
        );

        let mut long = task(TaskStatus::Completed);
        long.result = Some(ResultSummary {
            text: "x".repeat(500),
            ..ResultSummary::default()
        });
        assert_eq!(
            Note::for_task(&long, 0)
                .expect("a note")
                .body
                .chars()
                .count(),
            BODY_CHARS + 1
        );
    }
}
