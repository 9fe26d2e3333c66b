//! `taskctl run` and `taskctl follow-up`: one task in the foreground, its transcript live in
//! the terminal, Ctrl-C or SIGTERM cancels it (the whole tree) before exiting.

use std::io::{Read, Write};
use std::time::Duration;

use supervisor::transcript::Entry;
use supervisor::{
    Event, OutputFormat, OutputLine, SpawnRequest, Supervisor, TaskId, TaskOptions, TaskStatus,
};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::broadcast::error::RecvError;

use super::approve::Approver;
use crate::cli::{Approve, FollowUpArgs, OutputArgs, RunArgs};
use crate::{exit, paths, render};

pub fn run(args: RunArgs) -> Result<i32, String> {
    let prompt = read_prompt(args.prompt)?;
    let project_dir = match args.dir {
        Some(dir) => paths::absolute(dir)?,
        None => {
            std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?
        }
    };
    if !args.agent.grace.is_finite() || args.agent.grace < 0.0 {
        return Err(format!(
            "--grace must be a number of seconds, got {}",
            args.agent.grace
        ));
    }
    let request = SpawnRequest {
        name: args.name.unwrap_or_default(),
        prompt,
        project_dir,
        options: TaskOptions {
            format: args.agent.format,
            permission_mode: args.agent.permission_mode,
            model: args.agent.model,
            keep_session: args.agent.keep_session,
            resume: None,
            allowed_tools: args
                .agent
                .allowed_tools
                .iter()
                .flat_map(|v| supervisor::tool_rules(v))
                .collect(),
        },
        follow_up_of: None,
    };
    let approve = args.agent.approve;
    let runtime = runtime()?;
    let sup = super::supervisor(
        args.agent.agent,
        Duration::from_secs_f64(args.agent.grace),
        &runtime,
    )?;
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
    let sup = super::supervisor(args.agent, supervisor::DEFAULT_GRACE, &runtime)?;
    runtime.block_on(foreground(
        &sup,
        |s| s.follow_up(id, prompt),
        args.output,
        args.approve,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
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
    let mut printer = Printer {
        format,
        output,
        next_seq: 0,
        out: std::io::BufWriter::new(std::io::stdout()),
        closed: false,
        asks_here: approver.asks_here(),
    };
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
                            approver.requested(sup, *approval);
                        }
                        Event::ApprovalResolved { request_id, outcome, .. } => {
                            approver.resolved(&request_id, outcome);
                        }
                        _ => {}
                    }
                    if finish {
                        break;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => printer.resync(sup, id),
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
            line = approver.next_line(), if approver.asking() => approver.typed(sup, line),
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

fn cancel(sup: &Supervisor, id: TaskId, output: OutputArgs) -> bool {
    if !output.json {
        say!("■ cancelling task {id}…");
    }
    if let Err(e) = sup.request_cancel(id) {
        say!("taskctl: {e}");
    }
    true
}

/// Writes output events to stdout, as transcript, raw lines or JSON.
struct Printer {
    format: OutputFormat,
    output: OutputArgs,
    /// The next line sequence number expected; lines before it were printed already.
    next_seq: u64,
    out: std::io::BufWriter<std::io::Stdout>,
    /// stdout's reader went away; the task still runs to its end.
    closed: bool,
    /// Requests are asked on this terminal, so the transcript need not show them too.
    asks_here: bool,
}

impl Printer {
    fn event(&mut self, event: &Event) {
        let Event::Output { task, lines } = event else {
            if self.output.json {
                self.json(event);
            }
            return;
        };
        for line in lines.iter() {
            self.line(*task, line);
        }
    }

    fn line(&mut self, task: TaskId, line: &OutputLine) {
        // Lines seen already (after a resync) are skipped.
        if line.seq < self.next_seq {
            return;
        }
        self.next_seq = line.seq + 1;
        if self.output.json {
            // One object per line, whatever the batching inside.
            self.json(&serde_json::json!({ "type": "output", "task": task, "line": line }));
        } else if self.output.raw {
            self.write(&line.text);
        } else {
            // A request asked on this terminal is shown whole by the question itself.
            let asked_here = self.asks_here;
            let keep = |e: &Entry| !(asked_here && matches!(e, Entry::Approval { .. }));
            for text in render::output_line_but(self.format, &line.text, keep) {
                self.write(&text);
            }
        }
    }

    fn json(&mut self, value: &impl serde::Serialize) {
        match serde_json::to_string(value) {
            Ok(json) => self.write(&json),
            Err(e) => say!("taskctl: cannot encode an event: {e}"),
        }
    }

    /// After falling behind the event stream: prints what the ring still holds from where we
    /// were, and says how much was skipped.
    fn resync(&mut self, sup: &Supervisor, id: TaskId) {
        let Ok(attached) = sup.attach(id) else { return };
        if let Some(first) = attached.snapshot.first() {
            if first.seq > self.next_seq && !self.output.json {
                say!(
                    "… {} lines skipped here (taskctl logs {id} has them all)",
                    first.seq - self.next_seq
                );
            }
        }
        for line in &attached.snapshot {
            self.line(id, line);
        }
    }

    fn write(&mut self, text: &str) {
        if !self.closed && writeln!(self.out, "{text}").is_err() {
            self.closed = true;
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
