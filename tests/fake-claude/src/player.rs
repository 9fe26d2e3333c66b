//! Plays the prompt: echo it, or run its script directive by directive.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::emit::{Outcome, Session};
use crate::procs::{self, Sleeper, ToolOutput};
use crate::script::{self, Behaviour, Directive, ResultKind};
use crate::{raw, signals};

/// Runs the session to its end and returns the exit code. Only a failure to write stdout (the
/// reader is gone) ends it without a result.
pub(crate) fn play(session: &Session, prompt: &str, resume: Option<&str>) -> ExitCode {
    match try_play(session, prompt, resume) {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(io::stderr(), "fake-claude: cannot write output: {err}");
            ExitCode::FAILURE
        }
    }
}

fn try_play(session: &Session, prompt: &str, resume: Option<&str>) -> io::Result<ExitCode> {
    session.init()?;
    let directives = match script::behaviour(prompt) {
        Ok(Behaviour::Echo) => {
            let answer = implicit_answer(prompt.to_owned(), resume);
            session.assistant_text(&answer)?;
            return finish(session, Outcome::Success, &answer);
        }
        Ok(Behaviour::Script(directives)) => directives,
        Err(err) => return finish(session, Outcome::Error, &err.to_string()),
    };

    // The `say` texts, for the implicit final answer.
    let mut said: Vec<String> = Vec::new();
    for directive in directives {
        match directive {
            Directive::Say(text) => {
                session.assistant_text(&text)?;
                said.push(text);
            }
            Directive::Tool(command) => {
                let id = session.tool_use(&command)?;
                let output = procs::run_tool(&command).unwrap_or_else(|err| ToolOutput {
                    stdout: String::new(),
                    stderr: format!("fake-claude: cannot run the tool: {err}"),
                    success: false,
                    code: None,
                });
                session.tool_result(&id, &output)?;
            }
            Directive::Flood { lines, bytes } => raw::flood(lines, bytes)?,
            Directive::Huge(bytes) => raw::huge(bytes)?,
            Directive::InvalidUtf8 => raw::invalid_utf8()?,
            Directive::Stderr(lines) => raw::stderr_lines(lines)?,
            Directive::Sleep(duration) => std::thread::sleep(duration),
            Directive::TrapTerm => signals::trap_term(),
            Directive::ToolChild | Directive::Daemon => {
                let (kind, name) = match directive {
                    Directive::ToolChild => (Sleeper::ToolChild, "tool-child"),
                    _ => (Sleeper::Daemon, "daemon"),
                };
                let pid = match procs::spawn_sleeper(kind) {
                    Ok(pid) => pid,
                    Err(err) => {
                        let message = format!("fake-claude: cannot start the {name}: {err}");
                        return finish(session, Outcome::Error, &message);
                    }
                };
                let text = format!("{name} pid {pid}");
                session.assistant_text(&text)?;
                said.push(text);
            }
            Directive::Exit(code) => return Ok(ExitCode::from(code)),
            Directive::Result { kind, text } => {
                let outcome = match kind {
                    ResultKind::Success => Outcome::Success,
                    ResultKind::Error => Outcome::Error,
                    ResultKind::ErrorSubtype => Outcome::ErrorDuringExecution,
                };
                return finish(session, outcome, &text);
            }
            Directive::Crash(signal) => procs::crash(signal),
            // A read error (stdin closed) ends the wait just as EOF does.
            Directive::WaitStdin => raw::wait_stdin().unwrap_or(()),
        }
    }
    let answer = if said.is_empty() {
        "done".to_owned()
    } else {
        said.join("\n")
    };
    finish(session, Outcome::Success, &implicit_answer(answer, resume))
}

/// The answer of an echo or of a script without `result`: mentions a resumed session.
fn implicit_answer(answer: String, resume: Option<&str>) -> String {
    match resume {
        Some(id) => format!("resumed {id}: {answer}"),
        None => answer,
    }
}

fn finish(session: &Session, outcome: Outcome, text: &str) -> io::Result<ExitCode> {
    session.finish(outcome, text)?;
    Ok(if outcome.is_error() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
