//! The app's UI as a user meets it: elements by their `data-testid` (added to the Svelte
//! components for the specs), clicks and typing over WebDriver (real DOM events, so Svelte's
//! bindings and handlers run as they do for a user), and reads of what the page shows, each
//! polled with a deadline.
//!
//! Reads go through small scripts (`textContent`, classes, layout boxes) rather than
//! WebDriver's element text, whose whitespace rules differ between drivers; actions go through
//! WebDriver, which refuses an element that is hidden or covered, as a user's click would miss.

use std::path::Path;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::app::App;
use crate::wait;

/// How long the UI gets to show the result of a click, a route change or an event.
pub const UI_TIMEOUT: Duration = Duration::from_secs(10);

/// The statuses a status badge can show (its class; the label differs: `completed` reads
/// "Done", `queued` "Queued · 1st in line").
pub const STATUSES: [&str; 8] = [
    "queued",
    "pending",
    "running",
    "waiting",
    "completed",
    "failed",
    "cancelled",
    "interrupted",
];

/// The CSS selector of the element(s) with `data-testid="<id>"`.
pub fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// The selector of task `id`'s row in the list.
pub fn task_row(id: u64) -> String {
    tid(&format!("task-row-{id}"))
}

/// Reads the page for [`App::page`]: the view, and the open task view's status and rows, with
/// whether each row is on screen (inside the transcript's visible box).
const PAGE_STATE: &str = r#"
const STATUSES = arguments[0];
const q = (s, root) => (root || document).querySelector(s);
const statusOf = (badge) => badge ? (STATUSES.find((s) => badge.classList.contains(s)) || '?') : null;
const shown = (el) => {
  if (!el) return false;
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') return false;
  const scroller = el.closest('[data-testid="transcript"]');
  const box = (scroller || document.documentElement).getBoundingClientRect();
  return r.bottom > box.top && r.top < box.bottom && r.right > box.left && r.left < box.right;
};
const header = q('[data-testid="task-header"]');
const transcript = q('[data-testid="transcript"]');
const rows = transcript
  ? [...transcript.querySelectorAll('[data-testid^="entry-"], [data-testid="raw-line"]')].map((el) => ({
      kind: el.dataset.testid,
      text: el.textContent,
      shown: shown(el),
    }))
  : [];
const idText = q('[data-testid="task-id"]')?.textContent ?? '';
return {
  title: q('[data-testid="view-title"]')?.textContent ?? null,
  task_id: header && /^#\d+$/.test(idText) ? Number(idText.slice(1)) : null,
  status: statusOf(header && q('[data-testid="status-badge"]', header)),
  badge: header ? (q('[data-testid="status-badge"]', header)?.textContent ?? null) : null,
  rows,
  result: q('[data-testid="result-card"]')?.textContent ?? null,
  result_shown: shown(q('[data-testid="result-card"]')),
  cancel_shown: shown(q('[data-testid="task-cancel"]')),
};
"#;

/// What the page shows, read at one instant (see [`App::page`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The top bar's title: "Tasks", "Task #3", "New task", "Settings", "Quit Tasktray?".
    pub title: Option<String>,
    /// The open task view's task id.
    pub task_id: Option<u64>,
    /// The open task view's status, as its badge's class (`queued`, `running`, `completed`,
    /// ...).
    pub status: Option<String>,
    /// The badge's text (`●Running`, `✓Done`, ...).
    pub badge: Option<String>,
    /// The transcript's rows, in order.
    pub rows: Vec<Row>,
    /// The result card's text, when there is one.
    pub result: Option<String>,
    pub result_shown: bool,
    /// Whether the task view's Cancel button is on screen.
    pub cancel_shown: bool,
}

/// One transcript row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its `data-testid`: `entry-text`, `entry-tool-call`, `entry-tool-result`,
    /// `entry-result`, `entry-system`, `entry-plain`, or `raw-line`.
    pub kind: String,
    pub text: String,
    /// Laid out inside the transcript's visible box.
    pub shown: bool,
}

impl Page {
    fn from_json(v: &Value) -> Page {
        let text = |k: &str| v[k].as_str().map(str::to_owned);
        Page {
            title: text("title"),
            task_id: v["task_id"].as_u64(),
            status: text("status"),
            badge: text("badge"),
            rows: v["rows"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| Row {
                            kind: r["kind"].as_str().unwrap_or_default().to_owned(),
                            text: r["text"].as_str().unwrap_or_default().to_owned(),
                            shown: r["shown"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            result: text("result"),
            result_shown: v["result_shown"].as_bool().unwrap_or(false),
            cancel_shown: v["cancel_shown"].as_bool().unwrap_or(false),
        }
    }

    /// The first row of `kind` whose text contains `needle`.
    pub fn row(&self, kind: &str, needle: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.kind == kind && r.text.contains(needle))
    }

    /// Whether the view is task `id`'s and shows `status`.
    pub fn task_is(&self, id: u64, status: &str) -> bool {
        self.task_id == Some(id) && self.status.as_deref() == Some(status)
    }
}

impl App {
    /// Runs `script` in the page (WebDriver's execute: `arguments` are `args`, `return`
    /// gives the value).
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("a script in the page failed: {e}\n{script}"))
    }

    /// What the page shows now.
    pub async fn page(&self) -> Page {
        Page::from_json(&self.js(PAGE_STATE, vec![json!(STATUSES)]).await)
    }

    /// Polls [`App::page`] until `check` accepts it (returning what it wants from it, or why
    /// not); panics after `timeout` with the last page.
    pub async fn wait_page<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Page) -> Result<T, String>,
    ) -> T {
        wait::until_async(what, timeout, || async {
            let page = self.page().await;
            check(&page).map_err(|why| format!("{why}\n{page:#?}"))
        })
        .await
    }

    /// The first element matching `css`, once it is displayed.
    pub async fn wait_shown(&self, css: &str, timeout: Duration) -> Element {
        let what = format!("{css} to be shown");
        wait::until_async(&what, timeout, || async {
            let found = self
                .client()
                .find(Locator::Css(css))
                .await
                .map_err(|e| format!("not found: {e}"))?;
            match found.is_displayed().await {
                Ok(true) => Ok(found),
                Ok(false) => Err("found, not displayed".into()),
                Err(e) => Err(format!("found, then: {e}")),
            }
        })
        .await
    }

    /// Waits until no element matches `css` (or none is displayed).
    pub async fn wait_gone(&self, css: &str, timeout: Duration) {
        let what = format!("{css} to be gone");
        wait::until_async(&what, timeout, || async {
            match self.client().find_all(Locator::Css(css)).await {
                Ok(found) => {
                    for el in found {
                        if el.is_displayed().await.unwrap_or(false) {
                            return Err("still displayed".to_owned());
                        }
                    }
                    Ok(())
                }
                Err(e) => Err(format!("{e}")),
            }
        })
        .await;
    }

    /// Clicks the element matching `css` once it is shown and enabled. A click that the driver
    /// refuses (covered, moving) is retried until the deadline; a covered element is scrolled
    /// to the middle of the view first.
    pub async fn click(&self, css: &str) {
        let what = format!("a click on {css}");
        wait::until_async(&what, UI_TIMEOUT, || async {
            let el = self
                .client()
                .find(Locator::Css(css))
                .await
                .map_err(|e| format!("not found: {e}"))?;
            if !el.is_displayed().await.unwrap_or(false) {
                return Err("not displayed".into());
            }
            if !el.is_enabled().await.unwrap_or(false) {
                return Err("disabled".into());
            }
            match el.click().await {
                Ok(()) => Ok(()),
                Err(e) => {
                    // WebDriver scrolls an element into view at the *bottom* of its scroller,
                    // where a sticky bar (the launch form's buttons) may cover it; a user would
                    // scroll it into sight. The next try finds it in the middle of the view.
                    if matches!(
                        &e,
                        CmdError::Standard(w) if w.error == ErrorStatus::ElementClickIntercepted
                    ) {
                        let _ = self
                            .client()
                            .execute(
                                "arguments[0].scrollIntoView({block: 'center'});",
                                vec![serde_json::to_value(&el).unwrap_or_default()],
                            )
                            .await;
                    }
                    // Debug: WebKitWebDriver's errors often carry an empty message; the kind
                    // (click intercepted, not interactable, ...) is only in the variant.
                    Err(format!("click failed: {e:?}"))
                }
            }
        })
        .await;
    }

    /// Types `text` into the field matching `css` (after what it holds), as keystrokes.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_shown(css, UI_TIMEOUT).await;
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Empties the field matching `css`, then types `text` into it, until the field holds
    /// exactly `text`. The field is scrolled into the middle of the view first (a long form
    /// puts it under the fold); a clear or a typing that the driver refuses (WebKitWebDriver
    /// once refused the keys for the launch form's folder field, with an empty message, in one
    /// of ten runs of `queue.rs`) is retried, from an empty field, until the deadline.
    pub async fn replace_text(&self, css: &str, text: &str) {
        let what = format!("{css} to hold {text:?}");
        wait::until_async(&what, UI_TIMEOUT, || async {
            let el = self.wait_shown(css, UI_TIMEOUT).await;
            let scroll = "arguments[0].scrollIntoView({block: 'center'});";
            self.client()
                .execute(
                    scroll,
                    vec![serde_json::to_value(&el).map_err(|e| e.to_string())?],
                )
                .await
                .map_err(|e| format!("cannot scroll to it: {e:?}"))?;
            el.clear()
                .await
                .map_err(|e| format!("cannot clear it: {e:?}"))?;
            if let Err(e) = el.send_keys(text).await {
                let why = format!("cannot type into it: {e:?}");
                eprintln!("e2e: {css}: {why}; again");
                return Err(why);
            }
            match self.value_of(css).await {
                Some(value) if value == text => Ok(()),
                other => Err(format!("it holds {other:?}")),
            }
        })
        .await;
    }

    /// Presses Ctrl+Enter in the field matching `css`.
    pub async fn ctrl_enter(&self, css: &str) {
        let el = self.wait_shown(css, UI_TIMEOUT).await;
        // Element Send Keys holds a modifier down until the end of the sequence.
        el.send_keys(&format!("{}{}", Key::Control, Key::Enter))
            .await
            .unwrap_or_else(|e| panic!("cannot press Ctrl+Enter in {css}: {e}"));
    }

    /// The `value` of the form field matching `css` (`None` when there is no such field).
    pub async fn value_of(&self, css: &str) -> Option<String> {
        self.js(
            "const el = document.querySelector(arguments[0]); return el ? el.value : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// The `textContent` of the first element matching `css`, if there is one.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        self.js(
            "const el = document.querySelector(arguments[0]); return el ? el.textContent : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// Waits until the element matching `css` has a `textContent` that contains `needle`;
    /// returns that text.
    pub async fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let what = format!("{css} to say {needle:?}");
        wait::until_async(&what, timeout, || async {
            match self.text_of(css).await {
                Some(text) if text.contains(needle) => Ok(text),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// The `data-testid` (else the id) of the focused element.
    pub async fn focused(&self) -> Option<String> {
        self.js(
            "const el = document.activeElement; \
             return el ? (el.dataset.testid || el.id || el.tagName) : null;",
            vec![],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// Waits for the top bar's title to be `title` (the view shown).
    pub async fn wait_view(&self, title: &str, timeout: Duration) {
        self.wait_text(&tid("view-title"), title, timeout).await;
    }

    /// The status class of task `id`'s row in the list, once the row is there.
    pub async fn wait_row_status(&self, id: u64, status: &str, timeout: Duration) {
        let css = format!("{} {}", task_row(id), tid("status-badge"));
        let what = format!("the row of task {id} to show {status}");
        wait::until_async(&what, timeout, || async {
            let class = self
                .js(
                    "const el = document.querySelector(arguments[0]); \
                     return el ? el.className : null;",
                    vec![json!(css)],
                )
                .await;
            match class.as_str() {
                Some(c) if c.split_whitespace().any(|k| k == status) => Ok(()),
                other => Err(format!("badge class {other:?}")),
            }
        })
        .await;
    }

    /// Goes back (the top bar's Back button) until the list shows: Back walks the views
    /// visited, e.g. from a task started from the form to the task started before it.
    pub async fn back_to_list(&self) {
        for _ in 0..10 {
            let title = self.text_of(&tid("view-title")).await;
            if title.as_deref() == Some("Tasks") {
                return;
            }
            self.click(&tid("back")).await;
            wait::until_async("Back to change the view", UI_TIMEOUT, || async {
                let now = self.text_of(&tid("view-title")).await;
                if now == title {
                    Err(format!("still {now:?}"))
                } else {
                    Ok(())
                }
            })
            .await;
        }
        panic!("ten Backs did not reach the list");
    }

    /// Opens the launch form from the top bar's "New task" button.
    pub async fn open_form(&self) {
        self.click(&tid("new-task")).await;
        self.wait_view("New task", UI_TIMEOUT).await;
        // The form fills itself from the settings and the recent projects, then focuses a
        // field: wait for that, so the focus does not move in the middle of the typing.
        wait::until_async("the form to focus a field", UI_TIMEOUT, || async {
            match self.focused().await.as_deref() {
                Some("project-dir" | "prompt") => Ok(()),
                other => Err(format!("focused: {other:?}")),
            }
        })
        .await;
    }

    /// Fills the open launch form: the project folder (replacing what it holds), the name
    /// (when not empty) and the prompt.
    pub async fn fill_form(&self, project: &Path, name: &str, prompt: &str) {
        let dir = project.to_str().expect("a UTF-8 project path");
        self.replace_text(&tid("project-dir"), dir).await;
        if !name.is_empty() {
            self.replace_text(&tid("task-name"), name).await;
        }
        self.replace_text(&tid("prompt"), prompt).await;
    }

    /// Clicks "Start task" and waits for the task view it opens; returns the task's id.
    pub async fn submit_form(&self) -> u64 {
        self.click(&tid("launch-submit")).await;
        self.wait_task_view(UI_TIMEOUT).await
    }

    /// Waits for a task view; returns its task's id.
    pub async fn wait_task_view(&self, timeout: Duration) -> u64 {
        self.wait_page("a task view", timeout, |p| {
            p.task_id.ok_or_else(|| "no task view".to_owned())
        })
        .await
    }

    /// Opens the form, fills it and starts the task with the button; returns the task's id.
    pub async fn launch_from_form(&self, project: &Path, name: &str, prompt: &str) -> u64 {
        self.open_form().await;
        self.fill_form(project, name, prompt).await;
        self.submit_form().await
    }

    /// Waits until the open task view shows task `id` with `status`; returns the page.
    pub async fn wait_task_status_shown(&self, id: u64, status: &str, timeout: Duration) -> Page {
        let what = format!("the view of task {id} to show {status}");
        self.wait_page(&what, timeout, |p| {
            if p.task_is(id, status) {
                Ok(p.clone())
            } else {
                Err(format!("task {:?} {:?}", p.task_id, p.status))
            }
        })
        .await
    }
}
