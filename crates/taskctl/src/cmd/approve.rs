//! Answering the agent's permission requests from `taskctl run`: asked on the terminal one at
//! a time, or answered by `--approve allow|deny`. Without a terminal and without `--approve`,
//! each request is denied at once, with the reason in the transcript, so a script never hangs.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, IsTerminal};

use supervisor::{Approval, ApprovalOutcome, Decision, TaskId};
use tokio::sync::mpsc;

use crate::cli::Approve;
use crate::render;

/// Lines typed ahead of the questions that are kept.
const TYPED_AHEAD: usize = 16;

const NO_TERMINAL: &str = "taskctl has no terminal to ask on, so this request was denied. \
                           Run taskctl on a terminal, or with --approve allow.";
const DENIED_BY_FLAG: &str = "Denied by taskctl --approve deny.";
const STDIN_CLOSED: &str = "No answer: taskctl's input was closed.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Ask,
    Allow,
    Deny,
    NoTerminal,
}

#[derive(Debug)]
pub(super) struct Approver {
    policy: Policy,
    /// Requests waiting for the terminal; the first one is on screen.
    queue: VecDeque<Approval>,
    /// Answers typed on stdin, read by a thread (reading a terminal blocks).
    lines: Option<mpsc::Receiver<Option<String>>>,
    stdin_closed: bool,
    /// Requests already handled: one followed from the app can be seen twice (in the list of
    /// open requests and in the event stream).
    seen: HashSet<String>,
}

impl Approver {
    pub(super) fn new(approve: Option<Approve>) -> Self {
        let policy = match approve {
            Some(Approve::Ask) => Policy::Ask,
            Some(Approve::Allow) => Policy::Allow,
            Some(Approve::Deny) => Policy::Deny,
            None if std::io::stdin().is_terminal() => Policy::Ask,
            None => Policy::NoTerminal,
        };
        Approver {
            policy,
            queue: VecDeque::new(),
            lines: None,
            stdin_closed: false,
            seen: HashSet::new(),
        }
    }

    /// Whether requests are asked on this terminal.
    pub(super) fn asks_here(&self) -> bool {
        self.policy == Policy::Ask
    }

    /// A new request of the task; the answer to send now, unless it is asked on the terminal.
    pub(super) fn requested(&mut self, approval: Approval) -> Vec<Answer> {
        if !self.seen.insert(approval.request_id.clone()) {
            return Vec::new();
        }
        let decision = match self.policy {
            Policy::Allow => Decision::Allow,
            Policy::Deny => deny(DENIED_BY_FLAG),
            Policy::NoTerminal => deny(NO_TERMINAL),
            Policy::Ask if self.stdin_closed => deny(STDIN_CLOSED),
            Policy::Ask => {
                self.queue.push_back(approval);
                if self.queue.len() == 1 {
                    self.ask();
                }
                return Vec::new();
            }
        };
        vec![(approval.task, approval.request_id, decision)]
    }

    /// A request was resolved (by this terminal, the app, the timeout, or the end of its turn).
    pub(super) fn resolved(&mut self, request_id: &str, outcome: ApprovalOutcome) {
        let Some(at) = self.queue.iter().position(|a| a.request_id == request_id) else {
            return;
        };
        self.queue.remove(at);
        if at == 0 {
            say!("  ({})", outcome.as_str());
            if !self.queue.is_empty() {
                self.ask();
            }
        }
    }

    /// Whether a question is on screen (so a line from stdin is awaited).
    pub(super) fn asking(&self) -> bool {
        !self.queue.is_empty() && !self.stdin_closed
    }

    /// The next line typed on stdin; `None` at EOF.
    pub(super) async fn next_line(&mut self) -> Option<String> {
        let lines = self.lines.get_or_insert_with(read_lines);
        lines.recv().await.flatten()
    }

    /// The answer to the question on screen, from what was typed (every open question is
    /// denied when stdin closed).
    pub(super) fn typed(&mut self, line: Option<String>) -> Vec<Answer> {
        let Some(approval) = self.queue.front() else {
            return Vec::new();
        };
        let (task, request_id) = (approval.task, approval.request_id.clone());
        let Some(line) = line else {
            self.stdin_closed = true;
            return std::mem::take(&mut self.queue)
                .into_iter()
                .map(|a| (a.task, a.request_id, deny(STDIN_CLOSED)))
                .collect();
        };
        let decision = match line.trim().to_lowercase().as_str() {
            "y" | "yes" => Decision::Allow,
            "a" | "always" => Decision::AllowAlways,
            "n" | "no" => Decision::Deny { message: None },
            _ => {
                say!("  Answer y, n or a.");
                prompt();
                return Vec::new();
            }
        };
        // Answered here: the next line typed is for the next request.
        self.queue.pop_front();
        self.ask();
        vec![(task, request_id, decision)]
    }

    fn ask(&self) {
        if let Some(approval) = self.queue.front() {
            for line in render::approval(approval) {
                say!("{line}");
            }
            prompt();
        }
    }
}

fn prompt() {
    use std::io::Write as _;
    let mut err = std::io::stderr();
    let _ = write!(err, "  Allow? [y]es / [n]o / [a]lways for this task: ");
    let _ = err.flush();
}

fn deny(message: &str) -> Decision {
    Decision::Deny {
        message: Some(message.to_owned()),
    }
}

/// An answer to send: the task, the request, the decision.
pub(super) type Answer = (TaskId, String, Decision);

/// Reads stdin line by line on a thread; `None` marks EOF.
fn read_lines() -> mpsc::Receiver<Option<String>> {
    let (tx, rx) = mpsc::channel(TYPED_AHEAD);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) => {
                    if tx.blocking_send(Some(line)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.blocking_send(None);
    });
    rx
}
