//! Desktop notifications when a task completes or fails (never for one the user cancelled).
//!
//! Each notification lives in its own small tokio task that holds the handle, and with it the
//! D-Bus connection, until the user acts on it or it closes: GNOME drops a notification whose
//! sender went away, and the "Show" action needs the connection to arrive. Every call to the
//! server is bounded: a server that never answers is logged and never blocks the app.

use std::time::Duration;

use notify_rust::{Notification, NotificationResponse, Timeout};
use supervisor::{TaskRecord, TaskStatus};
use tauri::AppHandle;

use supervisor::text::{duration, shorten};
use supervisor::transcript::denied_text;

use crate::lifecycle;
use crate::models::Navigate;

/// How long the notification server gets to accept a notification.
const SHOW_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a notification's handle is kept for its "Show" action.
const KEEP_FOR: Duration = Duration::from_secs(3600);
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
                .error
                .clone()
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
            body.push_str(&format!(
                "\n({} by the permission mode)",
                denied_text(denied)
            ));
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

/// Shows the notification for a finished task, if it gets one.
pub fn task_finished(app: &AppHandle, task: &TaskRecord, now_ms: u64) {
    let Some(note) = Note::for_task(task, now_ms) else {
        return;
    };
    let app = app.clone();
    let id = task.id;
    tauri::async_runtime::spawn(async move {
        let body = if body_markup().await {
            escape_markup(&note.body)
        } else {
            note.body.clone()
        };
        let mut notification = Notification::new();
        notification
            .appname("Tasktray")
            .summary(&note.summary)
            .body(&body)
            .icon("dialog-information")
            .action("default", "Show")
            .action("show", "Show")
            .timeout(Timeout::Default);
        let handle = match tokio::time::timeout(SHOW_TIMEOUT, notification.show_async()).await {
            Ok(Ok(handle)) => handle,
            Ok(Err(e)) => {
                tracing::warn!("notification for task {id} not shown: {e}");
                return;
            }
            Err(_) => {
                tracing::warn!("notification server did not answer within {SHOW_TIMEOUT:?}");
                return;
            }
        };
        tracing::info!("notified: {}", note.summary);
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
        let _ = tokio::time::timeout(KEEP_FOR, wait).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use supervisor::{ExitInfo, ResultSummary};

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
            "Could not write it.\n(2 tools refused by the permission mode)"
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
