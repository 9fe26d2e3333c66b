//! `taskctl run` and `taskctl follow-up`: one task in the foreground, its transcript live in
//! the terminal, Ctrl-C or SIGTERM cancels it (the whole tree) before exiting.

use std::io::Read;
use std::time::Duration;

use supervisor::{Event, Settings, SpawnRequest, Supervisor, TaskId, TaskOptions, TaskStatus};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::broadcast::error::RecvError;

use super::approve::{Answer, Approver};
use super::printer::Printer;
use crate::cli::{Approve, FollowUpArgs, OutputArgs, RunArgs};
use crate::{exit, paths, render};

/// How a `run` that follows a queued task takes it out of the queue.
pub(super) const CTRL_C_UNQUEUES: &str = "Ctrl-C takes it out of the queue";

pub fn run(args: RunArgs) -> Result<i32, String> {
    let prompt = read_prompt(args.prompt)?;
    let project_dir = match args.dir {
        Some(dir) => paths::absolute(dir)?,
        None => {
            std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?
        }
    };
    if let Some(grace) = args.agent.grace.filter(|g| !g.is_finite() || *g < 0.0) {
        return Err(format!("--grace must be a number of seconds, got {grace}"));
    }
    let runtime = runtime()?;
    let client = tasktray_api::client::Client::for_user();
    // The app's settings when it runs (it may keep its data elsewhere), else the saved ones.
    let app_settings = match args.local {
        true => None,
        false => runtime
            .block_on(client.get("/v1/settings"))
            .ok()
            .map(|v| serde_json::from_value::<Settings>(v).unwrap_or_default()),
    };
    if app_settings.is_none() && args.detach {
        return Err(format!(
            "--detach needs Tasktray running (nothing answers on {}); without it a task \
             lives as long as `taskctl run`",
            client.path().display()
        ));
    }
    let settings = match &app_settings {
        Some(settings) => settings.clone(),
        None => Settings::load(&Settings::path(&paths::data_dir()?)),
    };
    // The default applies to folders in a repository; --worktree outside one is an error.
    let worktree = args.worktree
        || (!args.no_worktree
            && settings.worktree_by_default
            && supervisor::in_repository(&project_dir));
    let agent = &args.agent;
    let mut request = SpawnRequest {
        name: args.name.unwrap_or_default(),
        prompt,
        project_dir,
        options: TaskOptions {
            format: agent.format.unwrap_or(settings.default_format),
            permission_mode: agent
                .permission_mode
                .unwrap_or(settings.default_permission_mode),
            model: agent.model.clone().or(settings.default_model.clone()),
            keep_session: agent.keep_session || settings.keep_session_by_default,
            resume: None,
            allowed_tools: agent
                .allowed_tools
                .iter()
                .flat_map(|v| supervisor::tool_rules(v))
                .collect(),
            worktree,
        },
        follow_up_of: None,
        queue: args.queue,
    };
    let approve = agent.approve;
    if app_settings.is_some() {
        // The app adds what its Settings always allow.
        return runtime.block_on(super::remote::run(
            &client,
            request,
            args.agent.output,
            approve,
            args.detach,
        ));
    }
    settings.prepare(&mut request);
    let sup = super::supervisor(&settings, args.agent.agent, args.agent.grace, &runtime)?;
    runtime.block_on(foreground(
        &sup,
        |s| s.spawn(request),
        args.agent.output,
        approve,
    ))
}

pub fn follow_up(args: FollowUpArgs) -> Result<i32, String> {
    let prompt = read_prompt(args.prompt)?;
    let id = super::parse_id(&args.id)?;
    let runtime = runtime()?;
    let settings = Settings::load(&Settings::path(&paths::data_dir()?));
    let sup = super::supervisor(&settings, args.agent, None, &runtime)?;
    runtime.block_on(foreground(
        &sup,
        |s| s.follow_up(id, prompt),
        args.output,
        args.approve,
    ))
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn read_prompt(prompt: String) -> Result<String, String> {
    if prompt != "-" {
        return Ok(prompt);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the prompt from stdin: {e}"))?;
    Ok(text)
}

/// Spawns with `start`, prints the task's output as it comes, and maps the end to an exit code.
async fn foreground(
    sup: &Supervisor,
    start: impl FnOnce(&Supervisor) -> supervisor::Result<TaskId>,
    output: OutputArgs,
    approve: Option<Approve>,
) -> Result<i32, String> {
    let mut approver = Approver::new(approve);
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    // Subscribed before the spawn, so not even the first line can be missed.
    let mut events = sup.subscribe();
    let id = start(sup).map_err(|e| e.to_string())?;
    let record = sup.get(id).ok_or("the task vanished")?;
    let format = record.options.format;
    if !output.json {
        say!(
            "▶ task {id} in {} ({}); Ctrl-C cancels",
            record.project_dir.display(),
            format.as_str()
        );
    }
    if record.status == TaskStatus::Queued && !output.json {
        let place = sup
            .queue()
            .iter()
            .position(|q| *q == id)
            .map_or(1, |p| p + 1);
        let after = sup
            .running()
            .into_iter()
            .find(|t| t.status.is_running() && t.project_dir == record.project_dir)
            .map(|t| t.id);
        say!("{}", render::queued_note(id, place, after, CTRL_C_UNQUEUES));
    }
    let mut printer = Printer::new(format, output, approver.asks_here());
    let mut cancelling = false;
    // Resolves when the runner is done, even if (by a bug) it never sent a finish event.
    let finished = sup.wait(id);
    tokio::pin!(finished);
    loop {
        // recv, the signal streams and the wait are cancel-safe: a branch that loses loses
        // nothing.
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) if event.task() == id => {
                    let finish = event.is_finish();
                    printer.event(&event);
                    if events.is_empty() {
                        printer.flush();
                    }
                    match event {
                        Event::ApprovalRequested { approval, .. } => {
                            printer.flush();
                            answer(sup, approver.requested(*approval));
                        }
                        Event::ApprovalResolved { request_id, outcome, .. } => {
                            approver.resolved(&request_id, outcome);
                        }
                        Event::StatusChanged { status: TaskStatus::Pending, .. } if !output.json => {
                            say!("▶ task {id} starts");
                        }
                        _ => {}
                    }
                    if finish {
                        break;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if let Ok(attached) = sup.attach(id) {
                        printer.resync(id, &attached.snapshot);
                    }
                }
                Err(RecvError::Closed) => break,
            },
            _ = &mut finished => {
                // Print what is still queued, then stop.
                while let Ok(event) = events.try_recv() {
                    if event.task() == id {
                        printer.event(&event);
                    }
                }
                break;
            }
            line = approver.next_line(), if approver.asking() => answer(sup, approver.typed(line)),
            _ = interrupt.recv(), if !cancelling => cancelling = cancel(sup, id, output),
            _ = terminate.recv(), if !cancelling => cancelling = cancel(sup, id, output),
        }
    }
    printer.flush();
    let done = sup.wait(id).await.map_err(|e| e.to_string())?;
    if !output.json {
        say!("{}", render::summary(&done, sup.now_ms()));
    }
    sup.shutdown(Duration::from_secs(10)).await;
    Ok(match done.status {
        TaskStatus::Completed => exit::COMPLETED,
        TaskStatus::Cancelled => exit::CANCELLED,
        _ => exit::FAILED,
    })
}

fn answer(sup: &Supervisor, answers: Vec<Answer>) {
    for (task, request_id, decision) in answers {
        if let Err(e) = sup.answer(task, &request_id, decision) {
            say!("taskctl: {e}");
        }
    }
}

fn cancel(sup: &Supervisor, id: TaskId, output: OutputArgs) -> bool {
    if !output.json {
        say!("■ cancelling task {id}…");
    }
    if let Err(e) = sup.request_cancel(id) {
        say!("taskctl: {e}");
    }
    true
}
