//! Two-way mode (`--input-format stream-json`): one turn per user message from stdin, in one
//! session, until stdin's EOF.

use std::io;
use std::process::ExitCode;

use crate::emit::Outcome;
use crate::player::{cannot_write, exit_code, Agent, End};
use crate::protocol;

/// Runs turns until stdin is closed and no message is left; exits 0 if the last result was a
/// success (or there was none), 1 if it was an error.
pub(crate) fn converse(agent: &Agent<'_>) -> ExitCode {
    match try_converse(agent) {
        Ok(code) => code,
        Err(err) => cannot_write(&err),
    }
}

fn try_converse(agent: &Agent<'_>) -> io::Result<ExitCode> {
    let session = agent.session;
    session.set_idle();
    let mut last = Outcome::Success;
    while let Some(message) = agent.inbox.next_message() {
        agent.inbox.begin_turn();
        session.begin_turn();
        session.init()?;
        if agent.args.replay_user_messages {
            session.replay(&message.content)?;
        }
        let end = agent.turn(&message.text)?;
        // Interrupts that came after the turn's last look.
        for id in agent.inbox.end_turn() {
            protocol::interrupt_done(&id)?;
        }
        match end {
            End::Finished(outcome) => last = outcome,
            End::Exit(code) => return Ok(ExitCode::from(code)),
            End::Interrupted => last = Outcome::ErrorDuringExecution,
        }
    }
    Ok(exit_code(last))
}
