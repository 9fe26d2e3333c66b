//! Plays a prompt as one turn: echo it, or run its script directive by directive.
//!
//! In two-way mode every wait (`sleep`, `tool`, `ask`, `wait-stdin`, `wait-message`,
//! `bad-control`) ends early on an interrupt, and the turn then ends with the interrupt's result.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::{Args, InputFormat};
use crate::emit::{Outcome, Session};
use crate::inbox::Inbox;
use crate::permissions::Policy;
use crate::procs::{self, Ran, Sleeper, ToolOutput};
use crate::script::{self, Behaviour, Directive, ResultKind};
use crate::{ask, protocol, raw, signals};

/// How long `bad-control` waits for the host's answer.
const BAD_CONTROL_WAIT: Duration = Duration::from_secs(10);
/// The longest `wait-file` waits before going on (a test that forgot the file still ends).
const WAIT_FILE_AT_MOST: Duration = Duration::from_secs(60);

/// Everything a turn needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Agent<'a> {
    pub(crate) session: &'a Session,
    pub(crate) inbox: &'a Arc<Inbox>,
    pub(crate) args: &'a Args,
    pub(crate) policy: &'a Policy,
}

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// With a result of this outcome.
    Finished(Outcome),
    /// `exit N`: the process ends now, without a result.
    Exit(u8),
    /// Stopped by an interrupt (its result is written).
    Interrupted,
}

/// What a step that can wait came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Next,
    /// Stopped by an interrupt (or a denial with `interrupt`), cutting this tool call short.
    Interrupted(Option<Cut>),
}

/// A tool call cut short by an interrupt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) id: String,
    /// It was running (else still waiting for permission).
    pub(crate) running: bool,
}

/// What a wait in the inbox came to.
enum Woke<T> {
    Got(T),
    Interrupted,
    Eof,
}

impl Agent<'_> {
    pub(crate) fn two_way(&self) -> bool {
        self.args.input_format == InputFormat::StreamJson
    }

    /// One-way mode: the whole run is this one turn.
    pub(crate) fn play(&self, prompt: &str) -> ExitCode {
        match self.session.init().and_then(|()| self.turn(prompt)) {
            Ok(End::Finished(outcome)) => exit_code(outcome),
            Ok(End::Exit(code)) => ExitCode::from(code),
            Ok(End::Interrupted) => ExitCode::FAILURE,
            Err(err) => cannot_write(&err),
        }
    }

    /// Plays `prompt` to the end of its turn.
    pub(crate) fn turn(&self, prompt: &str) -> io::Result<End> {
        let directives = match script::behaviour(prompt) {
            Ok(Behaviour::Echo) => {
                let answer = self.implicit_answer(prompt.to_owned());
                self.session.assistant_text(&answer)?;
                return self.finish(Outcome::Success, &answer);
            }
            Ok(Behaviour::Script(directives)) => directives,
            Err(err) => return self.finish(Outcome::Error, &err.to_string()),
        };
        // The assistant texts, for the implicit final answer.
        let mut said: Vec<String> = Vec::new();
        for directive in directives {
            if self.inbox.interrupted() {
                return self.stop(None);
            }
            let flow = match directive {
                Directive::Say(text) => self.say(&mut said, text)?,
                Directive::Tool(command) => self.tool(&command)?,
                Directive::Flood { lines, bytes } => {
                    raw::flood(lines, bytes).map(|()| Flow::Next)?
                }
                Directive::Chatter { messages, bytes } => self.chatter(messages, bytes)?,
                Directive::Huge(bytes) => raw::huge(bytes).map(|()| Flow::Next)?,
                Directive::InvalidUtf8 => raw::invalid_utf8().map(|()| Flow::Next)?,
                Directive::Stderr(lines) => raw::stderr_lines(lines).map(|()| Flow::Next)?,
                Directive::Sleep(duration) => self.sleep(duration),
                Directive::WaitFile(path) => self.wait_file(&path),
                Directive::TrapTerm => {
                    signals::trap_term();
                    Flow::Next
                }
                Directive::ToolChild | Directive::Daemon => {
                    let (kind, name) = match directive {
                        Directive::ToolChild => (Sleeper::ToolChild, "tool-child"),
                        _ => (Sleeper::Daemon, "daemon"),
                    };
                    match procs::spawn_sleeper(kind) {
                        Ok(pid) => self.say(&mut said, format!("{name} pid {pid}"))?,
                        Err(err) => {
                            let message = format!("fake-claude: cannot start the {name}: {err}");
                            return self.finish(Outcome::Error, &message);
                        }
                    }
                }
                Directive::Exit(code) => return Ok(End::Exit(code)),
                Directive::Result { kind, text } => {
                    let outcome = match kind {
                        ResultKind::Success => Outcome::Success,
                        ResultKind::Error => Outcome::Error,
                        ResultKind::ErrorSubtype => Outcome::ErrorDuringExecution,
                    };
                    return self.finish(outcome, &text);
                }
                Directive::Crash(signal) => {
                    procs::crash(signal);
                    Flow::Next
                }
                Directive::WaitStdin => self.wait_stdin(),
                Directive::Ask(tool) => ask::ask(self, &tool, &mut said)?,
                Directive::BadControl => self.bad_control(&mut said)?,
                Directive::WaitMessage => self.wait_message(&mut said)?,
            };
            if let Flow::Interrupted(cut) = flow {
                return self.stop(cut);
            }
        }
        let answer = if said.is_empty() {
            "done".to_owned()
        } else {
            said.join("\n")
        };
        self.finish(Outcome::Success, &self.implicit_answer(answer))
    }

    /// An assistant text, also part of the implicit final answer.
    pub(crate) fn say(&self, said: &mut Vec<String>, text: String) -> io::Result<Flow> {
        self.session.assistant_text(&text)?;
        said.push(text);
        Ok(Flow::Next)
    }

    /// Many assistant texts, numbered from 0, as fast as the session writes them.
    fn chatter(&self, messages: u64, bytes: usize) -> io::Result<Flow> {
        let filler = "x".repeat(bytes.saturating_sub(7));
        for i in 0..messages {
            self.session.assistant_text(&format!("{i:06} {filler}"))?;
        }
        Ok(Flow::Next)
    }

    /// The answer of an echo or of a script without `result`: mentions a resumed session.
    fn implicit_answer(&self, answer: String) -> String {
        match &self.args.resume {
            Some(id) => format!("resumed {id}: {answer}"),
            None => answer,
        }
    }

    fn finish(&self, outcome: Outcome, text: &str) -> io::Result<End> {
        self.session.finish(outcome, text)?;
        Ok(End::Finished(outcome))
    }

    /// Ends the turn after an interrupt, as the real CLI does: the interrupt's answer, the cut
    /// tool call's error result, the `[Request interrupted by user...]` line, the result.
    fn stop(&self, cut: Option<Cut>) -> io::Result<End> {
        for id in self.inbox.take_interrupts() {
            protocol::interrupt_done(&id)?;
        }
        let tool = cut.as_ref().map(|c| (c.id.as_str(), c.running));
        self.session.interrupted_lines(tool)?;
        self.session.finish_interrupted(cut.is_some())?;
        Ok(End::Interrupted)
    }

    fn tool(&self, command: &str) -> io::Result<Flow> {
        let id = self.session.tool_use(command)?;
        let output = match procs::run_tool(command, self.inbox) {
            Ok(Ran::Done(output)) => output,
            Ok(Ran::Interrupted) => return Ok(Flow::Interrupted(Some(Cut { id, running: true }))),
            Err(err) => ToolOutput::failed(&err),
        };
        self.session.tool_result(&id, &output)?;
        Ok(Flow::Next)
    }

    /// Waits in the inbox until `check` gives a value, an interrupt, or (`eof_ends`) EOF.
    fn wait<T>(
        &self,
        deadline: Option<Instant>,
        eof_ends: bool,
        mut check: impl FnMut(&mut crate::inbox::State) -> Option<T>,
    ) -> Option<Woke<T>> {
        self.inbox.wait_until(deadline, |state| {
            if !state.interrupts.is_empty() {
                return Some(Woke::Interrupted);
            }
            if let Some(value) = check(state) {
                return Some(Woke::Got(value));
            }
            (eof_ends && state.eof).then_some(Woke::Eof)
        })
    }

    fn sleep(&self, duration: Duration) -> Flow {
        let deadline = Instant::now().checked_add(duration);
        match self.wait(deadline, false, |_| None::<()>) {
            Some(Woke::Interrupted) => Flow::Interrupted(None),
            _ => Flow::Next,
        }
    }

    /// Waits until `path` exists (a barrier a test opens), at most [`WAIT_FILE_AT_MOST`].
    fn wait_file(&self, path: &std::path::Path) -> Flow {
        let give_up = Instant::now() + WAIT_FILE_AT_MOST;
        while !path.exists() && Instant::now() < give_up {
            let step = Instant::now().checked_add(Duration::from_millis(20));
            if let Some(Woke::Interrupted) = self.wait(step, false, |_| None::<()>) {
                return Flow::Interrupted(None);
            }
        }
        Flow::Next
    }

    fn wait_stdin(&self) -> Flow {
        if !self.two_way() {
            // A read error (stdin closed) ends the wait just as EOF does.
            raw::wait_stdin().unwrap_or(());
            return Flow::Next;
        }
        match self.wait(None, true, |_| None::<()>) {
            Some(Woke::Interrupted) => Flow::Interrupted(None),
            _ => Flow::Next,
        }
    }

    fn wait_message(&self, said: &mut Vec<String>) -> io::Result<Flow> {
        if !self.two_way() {
            return self.say(said, "got message: none".to_owned());
        }
        match self.wait(None, true, |state| state.messages.pop_front()) {
            Some(Woke::Got(message)) => {
                if self.args.replay_user_messages {
                    self.session.replay(&message.content)?;
                }
                self.say(said, format!("got message: {}", message.text))
            }
            Some(Woke::Interrupted) => Ok(Flow::Interrupted(None)),
            Some(Woke::Eof) | None => self.say(said, "got message: none".to_owned()),
        }
    }

    fn bad_control(&self, said: &mut Vec<String>) -> io::Result<Flow> {
        protocol::bad_requests()?;
        if !self.two_way() {
            return self.say(said, "bad-control: no answer".to_owned());
        }
        let deadline = Instant::now().checked_add(BAD_CONTROL_WAIT);
        let answer = self.wait(deadline, true, |state| {
            state.responses.remove(protocol::BAD_CONTROL_ID)
        });
        let text = match answer {
            Some(Woke::Interrupted) => return Ok(Flow::Interrupted(None)),
            Some(Woke::Got(response)) => {
                let subtype = response["subtype"].as_str().unwrap_or("?");
                let error = match response.get("error") {
                    Some(error) => error
                        .as_str()
                        .map_or_else(|| error.to_string(), str::to_owned),
                    None => response["response"].to_string(),
                };
                format!("bad-control answered: {subtype}: {error}")
            }
            Some(Woke::Eof) | None => "bad-control: no answer".to_owned(),
        };
        self.say(said, text)
    }
}

/// 0 after a success, 1 after an error.
pub(crate) fn exit_code(outcome: Outcome) -> ExitCode {
    if outcome.is_error() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// stdout cannot be written (the reader is gone): say so on stderr, exit 1.
pub(crate) fn cannot_write(err: &io::Error) -> ExitCode {
    let _ = writeln!(io::stderr(), "fake-claude: cannot write output: {err}");
    ExitCode::FAILURE
}
