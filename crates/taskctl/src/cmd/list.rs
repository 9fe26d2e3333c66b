//! `taskctl list`.

use crate::cli::ListArgs;
use crate::render;

pub fn list(args: ListArgs) -> Result<i32, String> {
    let history = super::history()?;
    let mut tasks = history.load_all();
    tasks.reverse();
    if args.running {
        tasks.retain(|t| render::shown_status(t).is_active());
    }
    if let Some(limit) = args.limit {
        tasks.truncate(limit);
    }
    if args.json {
        let json = serde_json::to_string_pretty(&tasks).map_err(|e| e.to_string())?;
        outln!("{json}");
        return Ok(0);
    }
    if tasks.is_empty() {
        outln!("No tasks yet. Start one with: taskctl run \"what to do\"");
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
            "{:>5}  {} {:<10} {:>8}  {:<24} {}",
            task.id,
            render::mark(status),
            status.as_str(),
            render::duration(task.duration_ms(now)),
            truncate(&project, 24),
            task.name
        );
    }
    Ok(0)
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
