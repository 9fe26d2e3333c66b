//! What the stdin thread hands to the player in two-way mode: queued user messages, the host's
//! control responses, interrupts, and EOF. The player waits on it (with a deadline, or until a
//! condition holds), so every wait can be cut short by an interrupt.
//!
//! In one-way mode the inbox stays empty forever: its waits are plain sleeps.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emit::lock;

/// The longest single wait on the condition variable; a poke (tool finished) ends it earlier.
const MAX_WAIT: Duration = Duration::from_millis(250);

/// A user message from stdin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// Its text: the prompt of a turn.
    pub(crate) text: String,
    /// Its `message.content` as sent, for `--replay-user-messages`.
    pub(crate) content: Value,
}

#[cfg(test)]
impl Message {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            content: Value::from(text.as_str()),
            text,
        }
    }
}

/// The shared state; change it only through [`Inbox`], which wakes the waiters.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// User messages not yet taken: the prompts of the turns to come.
    pub(crate) messages: VecDeque<Message>,
    /// The host's control responses by request id: the `response` object (with `subtype`).
    pub(crate) responses: HashMap<String, Value>,
    /// Request ids of interrupts that arrived during the running turn, not yet answered.
    pub(crate) interrupts: Vec<String>,
    /// Whether a turn is running (an interrupt then stops it, else it is answered at once).
    pub(crate) turn_active: bool,
    /// stdin reached EOF (or failed).
    pub(crate) eof: bool,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
    changed: Condvar,
}

impl Inbox {
    fn change(&self, f: impl FnOnce(&mut State)) {
        f(&mut lock(&self.state));
        self.changed.notify_all();
    }

    pub(crate) fn push_message(&self, message: Message) {
        self.change(|s| s.messages.push_back(message));
    }

    /// Takes the interrupt request ids waiting for an answer.
    pub(crate) fn take_interrupts(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.state).interrupts)
    }

    pub(crate) fn interrupted(&self) -> bool {
        !lock(&self.state).interrupts.is_empty()
    }

    pub(crate) fn push_response(&self, request_id: String, response: Value) {
        self.change(|s| {
            s.responses.insert(request_id, response);
        });
    }

    /// An interrupt request. `true`: a turn is running and will answer it once stopped;
    /// `false`: nothing runs, so the caller answers it now.
    pub(crate) fn interrupt(&self, request_id: &str) -> bool {
        let mut running = false;
        self.change(|s| {
            running = s.turn_active;
            if running {
                s.interrupts.push(request_id.to_owned());
            }
        });
        running
    }

    pub(crate) fn close(&self) {
        self.change(|s| s.eof = true);
    }

    /// Wakes the waiters so they look again (a tool process ended).
    pub(crate) fn poke(&self) {
        self.change(|_| {});
    }

    pub(crate) fn is_eof(&self) -> bool {
        lock(&self.state).eof
    }

    pub(crate) fn session_busy(&self) -> bool {
        let state = lock(&self.state);
        state.turn_active || !state.messages.is_empty()
    }

    /// Starts a turn: from now on an interrupt stops it.
    pub(crate) fn begin_turn(&self) {
        self.change(|s| s.turn_active = true);
    }

    /// Ends the turn; returns the interrupt request ids still to be answered.
    pub(crate) fn end_turn(&self) -> Vec<String> {
        let mut ids = Vec::new();
        self.change(|s| {
            s.turn_active = false;
            ids = std::mem::take(&mut s.interrupts);
        });
        ids
    }

    /// Waits until `check` gives a value, or until `deadline` (`None` on timeout). `check` runs
    /// under the lock, first at once, then after every change.
    pub(crate) fn wait_until<T>(
        &self,
        deadline: Option<Instant>,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let mut state = lock(&self.state);
        loop {
            if let Some(value) = check(&mut state) {
                return Some(value);
            }
            let mut wait = MAX_WAIT;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                wait = wait.min(left);
            }
            state = self
                .changed
                .wait_timeout(state, wait)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poison| poison.into_inner().0);
        }
    }

    /// The next user message (blocking); `None` once stdin is at EOF and none is left.
    pub(crate) fn next_message(&self) -> Option<Message> {
        self.wait_until(None, |s| match s.messages.pop_front() {
            Some(text) => Some(Some(text)),
            None if s.eof => Some(None),
            None => None,
        })
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn messages_then_eof() {
        let inbox = Inbox::default();
        inbox.push_message(Message::new("a"));
        inbox.close();
        assert_eq!(inbox.next_message(), Some(Message::new("a")));
        assert_eq!(inbox.next_message(), None);
    }

    #[test]
    fn interrupts_are_kept_only_during_a_turn() {
        let inbox = Inbox::default();
        assert!(!inbox.interrupt("i1"));
        inbox.begin_turn();
        assert!(inbox.interrupt("i2"));
        assert_eq!(inbox.end_turn(), ["i2"]);
        assert!(inbox.end_turn().is_empty());
    }

    #[test]
    fn a_wait_ends_on_a_change_or_the_deadline() {
        let inbox = Arc::new(Inbox::default());
        let start = Instant::now();
        let none = inbox.wait_until(Some(start + Duration::from_millis(30)), |_| None::<()>);
        assert!(none.is_none() && start.elapsed() >= Duration::from_millis(30));
        let sender = Arc::clone(&inbox);
        let thread = std::thread::spawn(move || sender.push_response("r".into(), Value::Null));
        let got = inbox.wait_until(Some(Instant::now() + Duration::from_secs(30)), |s| {
            s.responses.remove("r")
        });
        assert_eq!(got, Some(Value::Null));
        thread.join().expect("sender");
    }
}
