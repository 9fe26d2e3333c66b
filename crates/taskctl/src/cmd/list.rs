//! `taskctl list`.

use supervisor::{TaskQuery, TaskRecord, TaskStatus, MAX_PAGE};

use crate::cli::ListArgs;
use crate::render;

pub fn list(args: ListArgs) -> Result<i32, String> {
    if args.limit == Some(0) {
        return Err("--limit must be at least 1".into());
    }
    let history = super::history()?;
    let search = args
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut query = TaskQuery {
        status: if args.running {
            TaskStatus::ALL
                .into_iter()
                .filter(|s| s.is_active())
                .collect()
        } else {
            Vec::new()
        },
        search: search.map(str::to_owned),
        ..TaskQuery::default()
    };
    let wanted = args.limit.unwrap_or(usize::MAX);
    // A page at a time from the index: a long history is never read whole.
    let mut tasks: Vec<TaskRecord> = Vec::new();
    let mut total = 0;
    while tasks.len() < wanted {
        query.limit = Some((wanted - tasks.len()).min(MAX_PAGE as usize) as u32);
        let page = history.list(&query).map_err(|e| e.to_string())?;
        total = page.total;
        let mut page_tasks = page.tasks;
        if args.running {
            page_tasks.retain(|t| render::shown_status(t).is_active());
        }
        tasks.extend(page_tasks);
        match page.next_cursor {
            Some(next) => query.before = Some(next),
            None => break,
        }
    }
    let left_out = total.saturating_sub(tasks.len() as u64);
    if args.json {
        let json = serde_json::to_string_pretty(&tasks).map_err(|e| e.to_string())?;
        outln!("{json}");
        return Ok(0);
    }
    if tasks.is_empty() {
        match search {
            Some(text) => outln!("No task matches \u{201c}{text}\u{201d}."),
            None if args.running => outln!("No task is running."),
            None => outln!("No tasks yet. Start one with: taskctl run \"what to do\""),
        }
        return Ok(0);
    }
    let now = now_ms();
    outln!(
        "{:>5}  {:<12} {:>8}  {:<24} NAME",
        "ID",
        "STATUS",
        "TIME",
        "PROJECT"
    );
    for task in &tasks {
        let status = render::shown_status(task);
        let project = task.project_dir.file_name().map_or_else(
            || task.project_dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        outln!(
            "{:>5}  {} {:<10} {:>8}  {:<24} {}{}",
            task.id,
            render::mark(status),
            status.as_str(),
            render::duration(task.duration_ms(now)),
            truncate(&project, 24),
            task.name,
            branch(task)
        );
    }
    // On stderr: worktrees no task claims, which only the user can decide about.
    if let Ok(history) = super::history() {
        for stray in supervisor::stray_worktrees(&history) {
            say!(
                "note: the worktree {} ({}) belongs to no task; remove it with `git worktree remove` once its work is safe",
                stray.path.display(),
                stray.branch.as_deref().unwrap_or("no branch")
            );
        }
    }
    if left_out > 0 && !args.running {
        // On stderr: a pipe gets the rows only.
        say!(
            "{} of {total} {}; --limit N shows more",
            tasks.len(),
            if search.is_some() { "matches" } else { "tasks" }
        );
    }
    Ok(0)
}

/// `  [tasktray/3-fix-login]` for a worktree task, with the worktree's state once it is not
/// open.
fn branch(task: &supervisor::TaskRecord) -> String {
    match &task.worktree {
        Some(w) => match (w.state, &w.merged_into) {
            (supervisor::WorktreeState::Open, _) => format!("  [{}]", w.branch),
            (supervisor::WorktreeState::Discarded, Some(into)) => {
                format!("  [{}, merged into {into}, removed]", w.branch)
            }
            (supervisor::WorktreeState::Merged, Some(into)) => {
                format!("  [{}, merged into {into}]", w.branch)
            }
            (state, _) => format!("  [{}, {}]", w.branch, state.as_str()),
        },
        None => String::new(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

pub(super) fn now_ms() -> u64 {
    use supervisor::Clock;
    supervisor::SystemClock.now_ms()
}
