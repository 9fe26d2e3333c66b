//! `taskctl show`.

use supervisor::report;

use crate::cli::ShowArgs;
use crate::render;

pub fn show(args: ShowArgs) -> Result<i32, String> {
    let history = super::history()?;
    let id = super::parse_id(&args.id)?;
    let task = history.load(id).map_err(|e| e.to_string())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&task).map_err(|e| e.to_string())?
        );
        return Ok(0);
    }
    let now = super::list::now_ms();
    let status = render::shown_status(&task);
    println!("Task {}: {}", task.id, task.name);
    println!("  status    {} {status}", render::mark(status));
    println!("  project   {}", task.project_dir.display());
    println!("  created   {}", report::timestamp(task.created_at_ms));
    println!("  duration  {}", render::duration(task.duration_ms(now)));
    println!(
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
        println!("  exit      {exit}");
    }
    if let Some(session) = &task.session_id {
        println!("  session   {session}");
    }
    if let Some(parent) = task.follow_up_of {
        println!("  follows   task {parent}");
    }
    if let Some(result) = &task.result {
        if let Some(cost) = result.cost_usd {
            println!("  cost      ${cost:.4}");
        }
        if let Some(turns) = result.num_turns {
            println!("  turns     {turns}");
        }
    }
    if let Some(error) = &task.error {
        println!("  error     {error}");
    }
    println!(
        "  output    {} lines (taskctl logs {})",
        task.line_count, task.id
    );
    if !status.is_active() {
        println!("  transcript {}", report::transcript_path(&task).display());
    }
    println!("\nPrompt:\n{}", indent(&task.prompt));
    if let Some(result) = task.result.as_ref().filter(|r| !r.text.is_empty()) {
        println!("\nResult:\n{}", indent(&result.text));
    }
    Ok(0)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
