//! `taskctl show`.

use supervisor::report;

use crate::cli::ShowArgs;
use crate::render;

pub fn show(args: ShowArgs) -> Result<i32, String> {
    let history = super::history()?;
    let id = super::parse_id(&args.id)?;
    let task = history.load(id).map_err(|e| e.to_string())?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&task).map_err(|e| e.to_string())?
        );
        return Ok(0);
    }
    let now = super::list::now_ms();
    let status = render::shown_status(&task);
    outln!("Task {}: {}", task.id, task.name);
    outln!("  status    {} {status}", render::mark(status));
    outln!("  project   {}", task.project_dir.display());
    outln!("  created   {}", report::timestamp(task.created_at_ms));
    outln!("  duration  {}", render::duration(task.duration_ms(now)));
    outln!(
        "  agent     --output-format {} --permission-mode {}{}{}",
        task.options.format.as_str(),
        task.options.permission_mode.as_str(),
        task.options
            .model
            .as_deref()
            .map(|m| format!(" --model {m}"))
            .unwrap_or_default(),
        if task.options.keep_session {
            " (session kept)"
        } else {
            ""
        }
    );
    if let Some(exit) = task.exit {
        outln!("  exit      {exit}");
    }
    if let Some(session) = &task.session_id {
        outln!("  session   {session}");
    }
    if let Some(parent) = task.follow_up_of {
        outln!("  follows   task {parent}");
    }
    if let Some(result) = &task.result {
        if let Some(cost) = result.cost_usd {
            outln!("  cost      ${cost:.4}");
        }
        if let Some(turns) = result.num_turns {
            outln!("  turns     {turns}");
        }
    }
    if let Some(error) = &task.error {
        outln!("  error     {error}");
    }
    outln!(
        "  output    {} lines (taskctl logs {})",
        task.line_count,
        task.id
    );
    if !status.is_active() {
        outln!("  transcript {}", report::transcript_path(&task).display());
    }
    outln!("\nPrompt:\n{}", indent(&task.prompt));
    if let Some(result) = task.result.as_ref().filter(|r| !r.text.is_empty()) {
        outln!("\nResult:\n{}", indent(&result.text));
    }
    Ok(0)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
