//! The `ask` directive: a tool call that needs permission, settled by the permission mode and
//! rules, or by the host over `can_use_tool`; then run (allowed) or refused.

use std::fs;
use std::io;
use std::path::PathBuf;

use serde_json::Value;

use crate::emit::Decided;
use crate::json::Obj;
use crate::permissions::{Call, Verdict};
use crate::player::{Agent, Cut, Flow};
use crate::procs::{self, Ran, ToolOutput};
use crate::protocol::{self, Answer};
use crate::script::AskTool;

/// The real CLI's note after a file tool's result.
const FILE_STATE_NOTE: &str = "(file state is current in your context — no need to Read it back)";

/// A tool call's input, with paths made absolute.
#[derive(Debug, Clone)]
enum Input {
    Bash {
        command: String,
    },
    Write {
        path: PathBuf,
        content: String,
    },
    Edit {
        path: PathBuf,
        old: String,
        new: String,
    },
}

impl Input {
    fn new(tool: &AskTool, agent: &Agent<'_>) -> Self {
        match tool {
            AskTool::Bash(command) => Input::Bash {
                command: command.clone(),
            },
            AskTool::Write { path, content } => Input::Write {
                path: agent.policy.resolve(path),
                content: content.clone(),
            },
            AskTool::Edit { path, old, new } => Input::Edit {
                path: agent.policy.resolve(path),
                old: old.clone(),
                new: new.clone(),
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Input::Bash { .. } => "Bash",
            Input::Write { .. } => "Write",
            Input::Edit { .. } => "Edit",
        }
    }

    fn description(&self) -> String {
        match self {
            Input::Bash { command } => format!("Run: {command}"),
            Input::Write { path, .. } | Input::Edit { path, .. } => path.display().to_string(),
        }
    }

    /// The input as JSON text, in the real CLI's key order.
    fn json(&self) -> String {
        match self {
            Input::Bash { command } => Obj::new()
                .field("command", command.as_str())
                .field("description", self.description()),
            Input::Write { path, content } => Obj::new()
                .field("file_path", path.to_string_lossy())
                .field("content", content.as_str()),
            Input::Edit { path, old, new } => Obj::new()
                .field("file_path", path.to_string_lossy())
                .field("old_string", old.as_str())
                .field("new_string", new.as_str())
                .field("replace_all", false),
        }
        .build()
    }

    fn call(&self) -> Call<'_> {
        match self {
            Input::Bash { command } => Call::Bash(command),
            Input::Write { path, .. } | Input::Edit { path, .. } => Call::File {
                tool: self.name(),
                path,
            },
        }
    }

    /// This input with the fields of the host's `updatedInput` that it gives.
    fn updated(mut self, update: &Value, agent: &Agent<'_>) -> Self {
        let text = |key: &str| update[key].as_str().map(str::to_owned);
        match &mut self {
            Input::Bash { command } => {
                if let Some(new) = text("command") {
                    *command = new;
                }
            }
            Input::Write { path, content } => {
                if let Some(new) = text("file_path") {
                    *path = agent.policy.resolve(&new);
                }
                if let Some(new) = text("content") {
                    *content = new;
                }
            }
            Input::Edit { path, old, new } => {
                if let Some(value) = text("file_path") {
                    *path = agent.policy.resolve(&value);
                }
                if let Some(value) = text("old_string") {
                    *old = value;
                }
                if let Some(value) = text("new_string") {
                    *new = value;
                }
            }
        }
        self
    }
}

/// What the host said to `can_use_tool`.
enum HostSaid {
    Answer(Answer),
    /// stdin closed before an answer came.
    Closed,
    Interrupted,
}

/// Plays `ask TOOL ...`: the tool call, the permission, then the tool's result and
/// `ask allowed` or `ask denied: <message>`.
pub(crate) fn ask(agent: &Agent<'_>, tool: &AskTool, said: &mut Vec<String>) -> io::Result<Flow> {
    let input = Input::new(tool, agent);
    let json = input.json();
    let name = input.name();
    let id = agent.session.tool_use_named(name, &json)?;
    let (input, decided) = match agent.policy.decide(input.call()) {
        Verdict::Allow(decided) => (input, decided),
        Verdict::Deny(message, decided) => {
            return deny(agent, said, name, &id, &json, &message, decided)
        }
        Verdict::Ask if !agent.args.asks_host() => {
            let message = agent.policy.nobody_to_ask(input.call());
            return deny(agent, said, name, &id, &json, &message, Decided::NOBODY);
        }
        Verdict::Ask => match ask_host(agent, &input, &json, &id)? {
            HostSaid::Answer(Answer::Allow(update)) => {
                let input = match update {
                    Some(update) => input.updated(&update, agent),
                    None => input,
                };
                (input, Decided::HOST)
            }
            HostSaid::Answer(Answer::Deny {
                interrupt: true, ..
            }) => {
                agent.session.count_denial(name, &id, &json);
                return Ok(Flow::Interrupted(Some(Cut { id, running: false })));
            }
            HostSaid::Answer(Answer::Deny { message, .. }) => {
                return deny(
                    agent,
                    said,
                    name,
                    &id,
                    &json,
                    &message,
                    Decided::HOST_DENIED,
                )
            }
            HostSaid::Answer(Answer::Failed(message)) => {
                return deny(agent, said, name, &id, &json, &message, Decided::FAILED)
            }
            HostSaid::Closed => {
                let message = protocol::STREAM_CLOSED;
                return deny(agent, said, name, &id, &json, message, Decided::FAILED);
            }
            HostSaid::Interrupted => {
                return Ok(Flow::Interrupted(Some(Cut { id, running: false })))
            }
        },
    };
    match run(agent, &input, &id, decided)? {
        Flow::Next => agent.say(said, "ask allowed".to_owned()),
        stopped => Ok(stopped),
    }
}

fn deny(
    agent: &Agent<'_>,
    said: &mut Vec<String>,
    name: &str,
    id: &str,
    json: &str,
    message: &str,
    decided: Decided,
) -> io::Result<Flow> {
    agent.session.denied(name, id, json, message, decided)?;
    agent.say(said, format!("ask denied: {message}"))
}

/// Sends `can_use_tool` and waits for the answer (or an interrupt, or stdin's EOF). Once stdin
/// is closed no question is sent: it is refused as still open.
fn ask_host(agent: &Agent<'_>, input: &Input, json: &str, id: &str) -> io::Result<HostSaid> {
    if agent.inbox.is_eof() {
        return Ok(HostSaid::Closed);
    }
    let request_id = agent.session.request_id();
    let question = agent.policy.question(input.call(), &input.description());
    protocol::can_use_tool(&request_id, input.name(), json, question, id)?;
    let said = agent.inbox.wait_until(None, |state| {
        if !state.interrupts.is_empty() {
            return Some(HostSaid::Interrupted);
        }
        if let Some(response) = state.responses.remove(&request_id) {
            return Some(HostSaid::Answer(protocol::answer(&response)));
        }
        state.eof.then_some(HostSaid::Closed)
    });
    Ok(said.unwrap_or(HostSaid::Closed))
}

/// Runs an allowed tool call and writes its result.
fn run(agent: &Agent<'_>, input: &Input, id: &str, decided: Decided) -> io::Result<Flow> {
    let session = agent.session;
    match input {
        Input::Bash { command } => {
            let output = match procs::run_tool(command, agent.inbox) {
                Ok(Ran::Done(output)) => output,
                Ok(Ran::Interrupted) => {
                    return Ok(Flow::Interrupted(Some(Cut {
                        id: id.to_owned(),
                        running: true,
                    })))
                }
                Err(err) => ToolOutput::failed(&err),
            };
            let content = if output.success && output.stdout.trim().is_empty() {
                "(Bash completed with no output)".to_owned()
            } else {
                output.content()
            };
            session.bash_result(id, &output, content, Some(decided))?;
        }
        Input::Write { path, content } => {
            let shown = path.display();
            let original = fs::read_to_string(path).ok();
            let written = path
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::write(path, content));
            let (text, is_error) = match (&written, &original) {
                (Err(err), _) => (format!("Error writing file {shown}: {err}"), true),
                (Ok(()), None) => (
                    format!("File created successfully at: {shown} {FILE_STATE_NOTE}"),
                    false,
                ),
                (Ok(()), Some(_)) => (
                    format!("The file {shown} has been updated successfully. {FILE_STATE_NOTE}"),
                    false,
                ),
            };
            let result = Obj::new()
                .field(
                    "type",
                    if original.is_some() {
                        "update"
                    } else {
                        "create"
                    },
                )
                .field("filePath", path.to_string_lossy())
                .field("content", content.as_str())
                .field("structuredPatch", Vec::<Value>::new())
                .field("originalFile", original)
                .field("userModified", false)
                .build();
            session.result_of(id, &text, is_error, &result, Some(decided))?;
        }
        Input::Edit { path, old, new } => {
            let shown = path.display();
            let edited = match fs::read_to_string(path) {
                Err(_) => Err("File does not exist.".to_owned()),
                Ok(text) if !text.contains(old.as_str()) => Err(format!(
                    "String to replace not found in file.\nString: {old}"
                )),
                Ok(text) => fs::write(path, text.replacen(old.as_str(), new, 1))
                    .map(|()| text)
                    .map_err(|err| format!("Error writing file {shown}: {err}")),
            };
            match edited {
                Ok(original) => {
                    let text = format!(
                        "The file {shown} has been updated successfully. {FILE_STATE_NOTE}"
                    );
                    let result = Obj::new()
                        .field("filePath", path.to_string_lossy())
                        .field("oldString", old.as_str())
                        .field("newString", new.as_str())
                        .field("originalFile", original)
                        .field("structuredPatch", Vec::<Value>::new())
                        .field("userModified", false)
                        .field("replaceAll", false)
                        .build();
                    session.result_of(id, &text, false, &result, Some(decided))?;
                }
                Err(error) => {
                    let text = format!("<tool_use_error>{error}</tool_use_error>");
                    let result = Value::from(format!("Error: {error}")).to_string();
                    session.result_of(id, &text, true, &result, Some(decided))?;
                }
            }
        }
    }
    Ok(Flow::Next)
}
