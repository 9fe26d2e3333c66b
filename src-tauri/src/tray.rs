//! The tray icon and its menu. On Linux the tray delivers no clicks, only menu events, so
//! every action is in the menu. The menu is rebuilt whenever a task changes.

use std::sync::atomic::{AtomicU8, Ordering};

use supervisor::{Approval, Decision, TaskId, TaskQuery, TaskRecord, TaskStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuBuilder, MenuItem, SubmenuBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::lifecycle;
use crate::models::Navigate;
use crate::state::AppState;

const TRAY_ID: &str = "tasktray";
/// Finished tasks listed under "Recent".
const RECENT: usize = 5;
/// Running tasks listed by name; more are summarized.
const RUNNING_SHOWN: usize = 10;
/// Open requests listed; more are summarized.
const WAITING_SHOWN: usize = 10;

/// The icon shown now, as [`IconState`] `as u8`.
static ICON: AtomicU8 = AtomicU8::new(IconState::Idle as u8);

/// The tray icon: nothing running, tasks running, or a task waiting for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum IconState {
    Idle,
    Running,
    Waiting,
}

/// What a menu item does. Menu ids are parsed into this, so the mapping is testable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    NewTask,
    Show,
    Settings,
    Quit,
    ShowTask(TaskId),
    CancelTask(TaskId),
    Allow(TaskId, String),
    Deny(TaskId, String),
}

impl TrayAction {
    pub fn id(&self) -> String {
        match self {
            TrayAction::NewTask => "new".into(),
            TrayAction::Show => "show".into(),
            TrayAction::Settings => "settings".into(),
            TrayAction::Quit => "quit".into(),
            TrayAction::ShowTask(id) => format!("task:show:{id}"),
            TrayAction::CancelTask(id) => format!("task:cancel:{id}"),
            TrayAction::Allow(id, request) => format!("request:allow:{id}:{request}"),
            TrayAction::Deny(id, request) => format!("request:deny:{id}:{request}"),
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Some(match id {
            "new" => TrayAction::NewTask,
            "show" => TrayAction::Show,
            "settings" => TrayAction::Settings,
            "quit" => TrayAction::Quit,
            other => {
                if let Some(rest) = other.strip_prefix("request:") {
                    let (verb, rest) = rest.split_once(':')?;
                    let (task, request) = rest.split_once(':')?;
                    let (task, request) = (task.parse().ok()?, request.to_owned());
                    return match verb {
                        "allow" => Some(TrayAction::Allow(task, request)),
                        "deny" => Some(TrayAction::Deny(task, request)),
                        _ => None,
                    };
                }
                let (verb, task) = other.strip_prefix("task:")?.split_once(':')?;
                let task = task.parse().ok()?;
                match verb {
                    "show" => TrayAction::ShowTask(task),
                    "cancel" => TrayAction::CancelTask(task),
                    _ => return None,
                }
            }
        })
    }
}

/// What the tray's actions act on; the app implements it, tests record it.
pub trait Shell {
    fn show(&self);
    fn navigate(&self, to: Navigate);
    fn cancel(&self, id: TaskId);
    fn answer(&self, id: TaskId, request_id: &str, decision: Decision);
    fn quit(&self);
}

pub fn perform(action: TrayAction, shell: &impl Shell) {
    match action {
        TrayAction::NewTask => shell.navigate(Navigate::New),
        TrayAction::Show => shell.show(),
        TrayAction::Settings => shell.navigate(Navigate::Settings),
        TrayAction::Quit => shell.quit(),
        TrayAction::ShowTask(id) => shell.navigate(Navigate::Task { id }),
        TrayAction::CancelTask(id) => shell.cancel(id),
        TrayAction::Allow(id, request) => shell.answer(id, &request, Decision::Allow),
        TrayAction::Deny(id, request) => {
            shell.answer(id, &request, Decision::Deny { message: None });
        }
    }
}

struct AppShell<'a>(&'a AppHandle);

impl Shell for AppShell<'_> {
    fn show(&self) {
        lifecycle::show_main(self.0);
    }
    fn navigate(&self, to: Navigate) {
        lifecycle::navigate(self.0, to);
    }
    fn cancel(&self, id: TaskId) {
        if let Err(e) = self.0.state::<AppState>().supervisor.request_cancel(id) {
            tracing::warn!("tray: cannot cancel task {id}: {e}");
        }
    }
    fn answer(&self, id: TaskId, request_id: &str, decision: Decision) {
        let state = self.0.state::<AppState>();
        if let Err(e) = state.supervisor.answer(id, request_id, decision) {
            tracing::warn!("tray: cannot answer task {id}: {e}");
        }
    }
    fn quit(&self) {
        lifecycle::quit(self.0);
    }
}

/// The menu's text, computed from the task list (kept apart from Tauri for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuModel {
    pub header: String,
    /// Open requests: the task, the request id, and the label (`#3 Bash: echo made`).
    pub waiting: Vec<(TaskId, String, String)>,
    pub more_waiting: usize,
    /// Tasks waiting for a new instruction after their turn was stopped.
    pub idle_waiting: usize,
    pub running: Vec<(TaskId, String)>,
    pub more_running: usize,
    /// Queued tasks in the order they will start, with their place.
    pub queued: Vec<(TaskId, String)>,
    pub more_queued: usize,
    pub recent: Vec<(TaskId, String)>,
}

impl MenuModel {
    /// `tasks` newest first, as the supervisor lists them; `approvals` oldest first; `runs`
    /// says which tasks this app runs (only those can wait for an instruction from it).
    pub fn new(
        tasks: &[TaskRecord],
        approvals: &[Approval],
        runs: impl Fn(TaskId) -> bool,
    ) -> Self {
        let active: Vec<&TaskRecord> = tasks.iter().filter(|t| t.status.is_running()).collect();
        let finished: Vec<&TaskRecord> = tasks.iter().filter(|t| !t.status.is_active()).collect();
        // Newest first in `tasks`; the queue starts with the oldest.
        let queued: Vec<&TaskRecord> = tasks
            .iter()
            .rev()
            .filter(|t| t.status == TaskStatus::Queued)
            .collect();
        let mut header = match active.len() {
            0 => "No task running".to_owned(),
            1 => "1 task running".to_owned(),
            n => format!("{n} tasks running"),
        };
        if !queued.is_empty() {
            header.push_str(&format!(" · {} queued", queued.len()));
        }
        header.push_str(&format!(" · {} finished", finished.len()));
        let asking: Vec<TaskId> = approvals.iter().map(|a| a.task).collect();
        let idle_waiting = active
            .iter()
            .filter(|t| t.status == TaskStatus::Waiting && !asking.contains(&t.id) && runs(t.id))
            .count();
        let needs_you = approvals.len() + idle_waiting;
        if needs_you > 0 {
            header.push_str(&format!(" · {needs_you} waiting for you"));
        }
        MenuModel {
            header,
            waiting: approvals
                .iter()
                .take(WAITING_SHOWN)
                .map(|a| {
                    let what = supervisor::text::shorten(&a.summary(), 40);
                    (
                        a.task,
                        a.request_id.clone(),
                        format!("#{} {}: {what}", a.task, a.tool),
                    )
                })
                .collect(),
            more_waiting: approvals.len().saturating_sub(WAITING_SHOWN),
            idle_waiting,
            running: active
                .iter()
                .take(RUNNING_SHOWN)
                .map(|t| (t.id, format!("#{} {}", t.id, short(&t.name))))
                .collect(),
            more_running: active.len().saturating_sub(RUNNING_SHOWN),
            queued: queued
                .iter()
                .zip(1..)
                .take(RUNNING_SHOWN)
                .map(|(t, place)| {
                    (
                        t.id,
                        format!(
                            "{} #{} {}",
                            supervisor::text::ordinal(place),
                            t.id,
                            short(&t.name)
                        ),
                    )
                })
                .collect(),
            more_queued: queued.len().saturating_sub(RUNNING_SHOWN),
            recent: finished
                .iter()
                .take(RECENT)
                .map(|t| {
                    (
                        t.id,
                        format!("{} #{} {}", mark(t.status), t.id, short(&t.name)),
                    )
                })
                .collect(),
        }
    }

    pub fn icon(&self) -> IconState {
        if !self.waiting.is_empty() || self.idle_waiting > 0 {
            IconState::Waiting
        } else if !self.running.is_empty() {
            IconState::Running
        } else {
            IconState::Idle
        }
    }
}

fn mark(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Completed => "✓",
        TaskStatus::Failed => "✗",
        TaskStatus::Cancelled => "■",
        _ => "!",
    }
}

fn short(name: &str) -> String {
    supervisor::text::shorten(name, 40)
}

fn build_menu(app: &AppHandle, model: &MenuModel) -> tauri::Result<Menu<Wry>> {
    let item = |action: TrayAction, text: &str| {
        MenuItem::with_id(app, action.id(), text, true, None::<&str>)
    };
    let header = MenuItem::with_id(app, "header", &model.header, false, None::<&str>)?;
    let mut menu = MenuBuilder::new(app)
        .item(&header)
        .separator()
        .item(&item(TrayAction::NewTask, "New task…")?)
        .item(&item(TrayAction::Show, "Show Tasktray")?);

    let waiting_count = model.waiting.len() + model.more_waiting + model.idle_waiting;
    if waiting_count > 0 {
        let mut waiting = SubmenuBuilder::new(app, format!("Waiting for you ({waiting_count})"));
        for (id, request, label) in &model.waiting {
            let request = SubmenuBuilder::new(app, label)
                .item(&item(TrayAction::Allow(*id, request.clone()), "Allow")?)
                .item(&item(TrayAction::Deny(*id, request.clone()), "Deny")?)
                .item(&item(TrayAction::ShowTask(*id), "Show")?)
                .build()?;
            waiting = waiting.item(&request);
        }
        if model.more_waiting > 0 {
            waiting = waiting.item(&MenuItem::with_id(
                app,
                "waiting:more",
                format!("and {} more…", model.more_waiting),
                false,
                None::<&str>,
            )?);
        }
        if model.idle_waiting > 0 {
            let text = match model.idle_waiting {
                1 => "1 stopped task waits for an instruction".to_owned(),
                n => format!("{n} stopped tasks wait for an instruction"),
            };
            waiting = waiting.item(&MenuItem::with_id(
                app,
                "waiting:idle",
                text,
                false,
                None::<&str>,
            )?);
        }
        menu = menu.item(&waiting.build()?);
    }

    let mut running = SubmenuBuilder::new(
        app,
        format!("Running ({})", model.running.len() + model.more_running),
    );
    if model.running.is_empty() {
        running = running.item(&MenuItem::with_id(
            app,
            "running:none",
            "Nothing running",
            false,
            None::<&str>,
        )?);
    }
    for (id, label) in &model.running {
        let task = SubmenuBuilder::new(app, label)
            .item(&item(TrayAction::ShowTask(*id), "Show")?)
            .item(&item(TrayAction::CancelTask(*id), "Cancel")?)
            .build()?;
        running = running.item(&task);
    }
    if model.more_running > 0 {
        running = running.item(&MenuItem::with_id(
            app,
            "running:more",
            format!("and {} more…", model.more_running),
            false,
            None::<&str>,
        )?);
    }
    menu = menu.item(&running.build()?);

    if !model.queued.is_empty() {
        let mut queued = SubmenuBuilder::new(
            app,
            format!("Queued ({})", model.queued.len() + model.more_queued),
        );
        for (id, label) in &model.queued {
            let task = SubmenuBuilder::new(app, label)
                .item(&item(TrayAction::ShowTask(*id), "Show")?)
                .item(&item(TrayAction::CancelTask(*id), "Cancel")?)
                .build()?;
            queued = queued.item(&task);
        }
        if model.more_queued > 0 {
            queued = queued.item(&MenuItem::with_id(
                app,
                "queued:more",
                format!("and {} more…", model.more_queued),
                false,
                None::<&str>,
            )?);
        }
        menu = menu.item(&queued.build()?);
    }

    let mut recent = SubmenuBuilder::new(app, "Recent");
    if model.recent.is_empty() {
        recent = recent.item(&MenuItem::with_id(
            app,
            "recent:none",
            "No finished task yet",
            false,
            None::<&str>,
        )?);
    }
    for (id, label) in &model.recent {
        recent = recent.item(&item(TrayAction::ShowTask(*id), label)?);
    }
    menu.item(&recent.build()?)
        .separator()
        .item(&item(TrayAction::Settings, "Settings…")?)
        .item(&item(TrayAction::Quit, "Quit Tasktray")?)
        .build()
}

fn icon(state: IconState) -> tauri::Result<Image<'static>> {
    let bytes: &[u8] = match state {
        IconState::Idle => include_bytes!("../icons/tray-idle.png"),
        IconState::Running => include_bytes!("../icons/tray-running.png"),
        IconState::Waiting => include_bytes!("../icons/tray-waiting.png"),
    };
    Image::from_bytes(bytes)
}

fn model(app: &AppHandle) -> MenuModel {
    let supervisor = &app.state::<AppState>().supervisor;
    // The active tasks (held in memory) and the last finished ones (from the index).
    let mut tasks = supervisor.running();
    let finished = TaskQuery {
        status: TaskStatus::ALL
            .into_iter()
            .filter(|s| !s.is_active())
            .collect(),
        limit: Some(RECENT as u32),
        ..TaskQuery::default()
    };
    match supervisor.list(&finished) {
        Ok(page) => tasks.extend(page.tasks),
        Err(e) => tracing::warn!("the tray's recent tasks: {e}"),
    }
    MenuModel::new(&tasks, &supervisor.pending_approvals(), |id| {
        supervisor.runs(id)
    })
}

/// Creates the tray icon.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let model = model(app);
    let menu = build_menu(app, &model)?;
    ICON.store(model.icon() as u8, Ordering::Relaxed);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon())?)
        // Linux panels show no tooltip (the menu's first line carries the counts there), and a
        // title would be drawn as a label beside the icon, so none is set.
        .tooltip(format!("Tasktray: {}", model.header))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match TrayAction::parse(event.id().as_ref()) {
            Some(action) => perform(action, &AppShell(app)),
            None => tracing::debug!("tray: menu item {:?} has no action", event.id()),
        })
        .build(app)?;
    Ok(())
}

/// Rebuilds the menu, the icon and the tooltip from the current tasks.
pub fn refresh(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let model = model(app);
    let result = build_menu(app, &model).and_then(|menu| {
        tray.set_menu(Some(menu))?;
        tray.set_tooltip(Some(format!("Tasktray: {}", model.header)))?;
        let state = model.icon();
        if ICON.swap(state as u8, Ordering::Relaxed) != state as u8 {
            tray.set_icon(Some(icon(state)?))?;
        }
        Ok(())
    });
    if let Err(e) = result {
        tracing::warn!("cannot update the tray: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for action in [
            TrayAction::NewTask,
            TrayAction::Show,
            TrayAction::Settings,
            TrayAction::Quit,
            TrayAction::ShowTask(TaskId(12)),
            TrayAction::CancelTask(TaskId(3)),
            TrayAction::Allow(TaskId(3), "0c77c1b7-b507-4fb1".into()),
            TrayAction::Deny(TaskId(4), "a:b".into()),
        ] {
            assert_eq!(TrayAction::parse(&action.id()), Some(action));
        }
        assert_eq!(TrayAction::parse("request:maybe:1:x"), None);
        assert_eq!(TrayAction::parse("header"), None);
        assert_eq!(TrayAction::parse("task:explode:1"), None);
        assert_eq!(TrayAction::parse("task:show:x"), None);
    }

    use crate::fixtures::task;

    #[test]
    fn menu_model_counts_lists_and_shortens() {
        assert_eq!(
            MenuModel::new(&[], &[], |_| true).header,
            "No task running · 0 finished"
        );
        assert_eq!(MenuModel::new(&[], &[], |_| true).icon(), IconState::Idle);
        let long = "x".repeat(60);
        let mut tasks = vec![
            task(9, TaskStatus::Running, &long),
            task(8, TaskStatus::Failed, "broke"),
            task(7, TaskStatus::Pending, "queued"),
        ];
        tasks.extend(
            (1..=6)
                .rev()
                .map(|i| task(i, TaskStatus::Completed, "done")),
        );
        let model = MenuModel::new(&tasks, &[], |_| true);
        assert_eq!(model.header, "2 tasks running · 7 finished");
        assert_eq!(model.icon(), IconState::Running);
        assert_eq!(model.running[0].0, TaskId(9));
        assert_eq!(
            model.running[0].1.chars().count(),
            "#9 ".len() + 41,
            "name cut at 40 + …"
        );
        assert_eq!(model.recent.len(), RECENT);
        assert_eq!(model.recent[0], (TaskId(8), "✗ #8 broke".to_owned()));
        assert_eq!(model.recent[1], (TaskId(6), "✓ #6 done".to_owned()));

        let many: Vec<_> = (0..13).map(|i| task(i, TaskStatus::Running, "r")).collect();
        let model = MenuModel::new(&many, &[], |_| true);
        assert_eq!(
            (model.running.len(), model.more_running),
            (RUNNING_SHOWN, 3)
        );
    }

    #[test]
    fn queued_tasks_are_listed_in_the_order_they_start() {
        let tasks = vec![
            task(12, TaskStatus::Queued, "last"),
            task(11, TaskStatus::Running, "busy"),
            task(10, TaskStatus::Queued, "next"),
            task(9, TaskStatus::Completed, "done"),
        ];
        let model = MenuModel::new(&tasks, &[], |_| true);
        assert_eq!(model.header, "1 task running · 2 queued · 1 finished");
        assert_eq!(
            model.queued,
            vec![
                (TaskId(10), "1st #10 next".to_owned()),
                (TaskId(12), "2nd #12 last".to_owned())
            ]
        );
        assert_eq!(model.running, vec![(TaskId(11), "#11 busy".to_owned())]);
        let only_queued = MenuModel::new(&tasks[..1], &[], |_| true);
        assert_eq!(only_queued.icon(), IconState::Idle, "nothing runs yet");
    }

    #[test]
    fn requests_come_first_and_turn_the_icon() {
        let tasks = vec![
            task(5, TaskStatus::Waiting, "stopped"),
            task(4, TaskStatus::Waiting, "asks"),
            task(3, TaskStatus::Running, "busy"),
        ];
        let approval = supervisor::Approval {
            task: TaskId(4),
            request_id: "r-1".into(),
            tool: "Bash".into(),
            input: serde_json::json!({"command": "echo made > made.txt"}),
            description: None,
            suggestions: Vec::new(),
            blocked_path: None,
            requested_at_ms: 0,
            expires_at_ms: None,
        };
        let model = MenuModel::new(&tasks, std::slice::from_ref(&approval), |_| true);
        assert_eq!(model.icon(), IconState::Waiting);
        assert_eq!(
            model.waiting,
            [(
                TaskId(4),
                "r-1".to_owned(),
                "#4 Bash: echo made > made.txt".to_owned()
            )]
        );
        assert_eq!(model.idle_waiting, 1, "task 5 waits for an instruction");
        assert_eq!(
            model.header,
            "3 tasks running · 0 finished · 2 waiting for you"
        );
        // Task 5 run by another host (taskctl) does not wait for this app.
        let model = MenuModel::new(&tasks, &[approval], |id| id != TaskId(5));
        assert_eq!(model.idle_waiting, 0);
    }

    #[derive(Default)]
    struct Recorder(RefCell<Vec<String>>);

    impl Shell for Recorder {
        fn show(&self) {
            self.0.borrow_mut().push("show".into());
        }
        fn navigate(&self, to: Navigate) {
            self.0.borrow_mut().push(format!("navigate {to:?}"));
        }
        fn cancel(&self, id: TaskId) {
            self.0.borrow_mut().push(format!("cancel {id}"));
        }
        fn answer(&self, id: TaskId, request_id: &str, decision: Decision) {
            self.0
                .borrow_mut()
                .push(format!("answer {id} {request_id} {decision:?}"));
        }
        fn quit(&self) {
            self.0.borrow_mut().push("quit".into());
        }
    }

    #[test]
    fn each_action_reaches_the_shell() {
        let shell = Recorder::default();
        for id in [
            "new",
            "show",
            "settings",
            "task:show:4",
            "task:cancel:4",
            "request:allow:4:r-1",
            "request:deny:4:r-2",
            "quit",
        ] {
            perform(TrayAction::parse(id).expect("known id"), &shell);
        }
        assert_eq!(
            shell.0.into_inner(),
            [
                "navigate New",
                "show",
                "navigate Settings",
                "navigate Task { id: TaskId(4) }",
                "cancel 4",
                "answer 4 r-1 Allow",
                "answer 4 r-2 Deny { message: None }",
                "quit"
            ]
        );
    }
}
