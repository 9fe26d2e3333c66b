//! The host's side of a two-way task, owned by the task's runner: the agent's input pipe, the
//! requests that wait for the user, the task's "allow always" rules, and when to close the
//! agent's stdin (which ends the task).
//!
//! Writes to the agent go through a bounded queue to a writer task, so a large prompt or an
//! agent that reads slowly never stops the runner from reading the agent's output (the two
//! pipes would otherwise deadlock).
//!
//! The task is over when its agent has taken up every message it was sent (it replays each
//! one as it takes it) and has ended the turn that took the last one, no request waits, and
//! the user did not stop the last turn: then the input closes and the agent exits. A message
//! sent mid-turn may join the running turn or become a turn of its own, so turns are not
//! counted. After a stopped turn the task waits for a new instruction, bounded by the
//! approval timeout like every other wait for the user.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::approval::{AllowRules, Approval, ApprovalOutcome, Decision, DEFAULT_DENY_MESSAGE};
use crate::model::{Event, TaskId, TaskRecord, TaskStatus};
use crate::protocol::{self, note, FromAgent};
use crate::table::Inner;

/// Messages a host can queue for one task's runner before `send`/`answer` say "busy".
pub(crate) const CONTROL_CAPACITY: usize = 64;
/// Lines queued for the agent's stdin. Each answers a request the agent waits on, or is a
/// message the control queue already bounded.
const INPUT_CAPACITY: usize = 2 * CONTROL_CAPACITY;

/// What a host asks of a running two-way task (sent by the [`Supervisor`] handle).
///
/// [`Supervisor`]: crate::Supervisor
#[derive(Debug)]
pub(crate) enum Control {
    /// The approval was already claimed from the task's open requests by the caller.
    Answer {
        approval: Approval,
        decision: Decision,
    },
    Send(String),
    Interrupt,
}

/// The shared half: what the [`Supervisor`](crate::Supervisor) handle holds to talk to the
/// runner.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) control: mpsc::Sender<Control>,
    /// False once the input closed: no more messages can reach the agent.
    pub(crate) accepting: Arc<AtomicBool>,
}

impl Line {
    /// A line for a new task, and the runner's end of it.
    pub(crate) fn new() -> (Line, mpsc::Receiver<Control>) {
        let (control, control_rx) = mpsc::channel(CONTROL_CAPACITY);
        let line = Line {
            control,
            accepting: Arc::new(AtomicBool::new(true)),
        };
        (line, control_rx)
    }

    pub(crate) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }
}

/// Lines for the output (Tasktray's notes) and changes the runner must apply.
pub(crate) type Notes = Vec<String>;

#[derive(Debug)]
pub(crate) struct Conversation {
    inner: Arc<Inner>,
    id: TaskId,
    input: Option<mpsc::Sender<Vec<u8>>>,
    writer: Option<JoinHandle<()>>,
    accepting: Arc<AtomicBool>,
    timeout: Option<Duration>,
    rules: AllowRules,
    /// When each open request is denied unanswered.
    deadlines: Vec<(String, Instant)>,
    /// User messages written (the prompt included), and how many the agent took up.
    messages: u64,
    taken: u64,
    /// The agent is in a turn: it took a message and has not written the turn's result.
    in_turn: bool,
    /// An interrupt was sent and its turn has not ended yet.
    interrupting: bool,
    /// The user stopped the last turn: the task waits for a new instruction until then.
    instruction_due: Option<Instant>,
    /// The last turn ended because the user stopped it, and no message followed.
    last_turn_stopped: bool,
    /// The status last published (running or waiting).
    waiting: bool,
    interrupts: u64,
}

impl Conversation {
    /// Starts the writer on the agent's input pipe and queues the opening lines: `initialize`
    /// and the prompt.
    pub(crate) fn start(
        inner: Arc<Inner>,
        record: &TaskRecord,
        pipe: pipe::Sender,
        timeout: Option<Duration>,
        accepting: Arc<AtomicBool>,
    ) -> Self {
        let (input, mut queue) = mpsc::channel::<Vec<u8>>(INPUT_CAPACITY);
        let id = record.id;
        let writer = tokio::spawn(async move {
            let mut pipe = pipe;
            while let Some(bytes) = queue.recv().await {
                if let Err(e) = pipe.write_all(&bytes).await {
                    // The agent is gone (EPIPE); the runner sees it exit.
                    tracing::debug!("task {id}: the agent's input is closed: {e}");
                    break;
                }
            }
        });
        let mut conversation = Conversation {
            inner,
            id,
            input: Some(input),
            writer: Some(writer),
            accepting,
            timeout,
            rules: AllowRules::new(record.work_dir()),
            deadlines: Vec::new(),
            messages: 0,
            taken: 0,
            in_turn: false,
            interrupting: false,
            instruction_due: None,
            last_turn_stopped: false,
            waiting: false,
            interrupts: 0,
        };
        conversation.write(protocol::initialize());
        conversation.write(protocol::user_message(&record.prompt));
        conversation.messages = 1;
        conversation
    }

    fn write(&mut self, bytes: Vec<u8>) -> bool {
        let Some(input) = &self.input else {
            return false;
        };
        match input.try_send(bytes) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("task {}: a line for the agent was dropped: {e}", self.id);
                false
            }
        }
    }

    /// The next time something must happen without the agent or the user: a request or a
    /// wait for an instruction runs out.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines
            .iter()
            .map(|(_, at)| *at)
            .chain(self.instruction_due)
            .min()
    }

    /// A request from the agent's output.
    pub(crate) fn on_request(&mut self, request: FromAgent, notes: &mut Notes) {
        match request {
            FromAgent::CanUseTool(mut approval) => {
                let now_ms = self.inner.clock.now_ms();
                approval.task = self.id;
                approval.requested_at_ms = now_ms;
                if self.rules.allows(&approval) {
                    self.write(protocol::allow(&approval));
                    notes.push(note::answer(
                        &approval,
                        ApprovalOutcome::AllowedByRule,
                        None,
                    ));
                    return;
                }
                if let Some(timeout) = self.timeout {
                    approval.expires_at_ms = Some(now_ms + timeout.as_millis() as u64);
                    self.deadlines
                        .push((approval.request_id.clone(), Instant::now() + timeout));
                }
                tracing::debug!(
                    "task {}: {} asks to run {}",
                    self.id,
                    approval.tool,
                    approval.summary()
                );
                self.inner.add_approval(approval.clone());
                let _ = self.inner.events.send(Event::ApprovalRequested {
                    task: self.id,
                    approval: Box::new(approval),
                });
            }
            FromAgent::Cancel { request_id } => {
                if let Some(approval) = self.inner.claim_approval(self.id, &request_id) {
                    self.resolved(&approval, ApprovalOutcome::Withdrawn, None, notes);
                }
            }
            FromAgent::Unsupported {
                request_id,
                subtype,
            } => {
                let why = format!("Tasktray does not serve {subtype:?} requests");
                tracing::warn!("task {}: {why} (request {request_id})", self.id);
                self.write(protocol::error_response(&request_id, &why));
                notes.push(note::notice(&format!(
                    "The agent sent a request Tasktray cannot serve ({subtype}); it was answered with an error."
                )));
            }
            FromAgent::TurnEnded => self.on_result(notes),
            FromAgent::Taken => {
                self.taken += 1;
                self.in_turn = true;
                // A message the agent took is an instruction: the task no longer waits for one.
                self.instruction_due = None;
                self.last_turn_stopped = false;
            }
            FromAgent::Malformed { why } => {
                tracing::warn!("task {}: ignored {why}", self.id);
                notes.push(note::notice(&format!(
                    "Ignored a malformed request from the agent: {why}."
                )));
            }
        }
    }

    /// A host's message to the task.
    pub(crate) fn on_control(&mut self, control: Control, notes: &mut Notes) {
        match control {
            Control::Answer { approval, decision } => {
                self.deadlines.retain(|(id, _)| id != &approval.request_id);
                let (bytes, outcome, message) = match decision {
                    Decision::Allow => (protocol::allow(&approval), ApprovalOutcome::Allowed, None),
                    Decision::AllowAlways => {
                        self.rules.add_from(&approval);
                        (
                            protocol::allow(&approval),
                            ApprovalOutcome::AllowedAlways,
                            None,
                        )
                    }
                    Decision::Deny { message } => {
                        let message = message
                            .map(|m| m.trim().to_owned())
                            .filter(|m| !m.is_empty());
                        let sent = message.as_deref().unwrap_or(DEFAULT_DENY_MESSAGE);
                        (
                            protocol::deny(&approval.request_id, sent),
                            ApprovalOutcome::Denied,
                            message,
                        )
                    }
                };
                self.write(bytes);
                self.resolved(&approval, outcome, message.as_deref(), notes);
                if outcome == ApprovalOutcome::AllowedAlways {
                    // Requests already waiting that the new rule covers need no answer either.
                    for waiting in self.inner.approvals_of(self.id) {
                        if self.rules.allows(&waiting) {
                            if let Some(claimed) =
                                self.inner.claim_approval(self.id, &waiting.request_id)
                            {
                                self.deadlines.retain(|(id, _)| id != &claimed.request_id);
                                self.write(protocol::allow(&claimed));
                                self.resolved(
                                    &claimed,
                                    ApprovalOutcome::AllowedByRule,
                                    None,
                                    notes,
                                );
                            }
                        }
                    }
                }
            }
            Control::Send(text) => {
                if self.write(protocol::user_message(&text)) {
                    self.messages += 1;
                    self.instruction_due = None;
                    self.last_turn_stopped = false;
                    notes.push(note::message(&text));
                } else {
                    notes.push(note::notice(
                        "A message was not delivered: the task was already finishing.",
                    ));
                }
            }
            Control::Interrupt => {
                if (self.in_turn || self.taken < self.messages) && !self.interrupting {
                    self.interrupts += 1;
                    let request_id = format!("tasktray-interrupt-{}", self.interrupts);
                    if self.write(protocol::interrupt(&request_id)) {
                        self.interrupting = true;
                        notes.push(note::interrupt());
                    }
                }
            }
        }
    }

    /// A `result` line: one turn ended. Requests of that turn no longer wait.
    fn on_result(&mut self, notes: &mut Notes) {
        self.in_turn = false;
        self.withdraw_all(notes);
        if self.interrupting {
            self.interrupting = false;
            // Stopped by the user: wait for a new instruction. An interrupt may drop the
            // messages the agent had queued, so none is waited for; one it still takes up
            // counts as the instruction.
            self.taken = self.taken.max(self.messages);
            let wait = self.timeout.unwrap_or(Duration::from_secs(86_400 * 365));
            self.instruction_due = Some(Instant::now() + wait);
            self.last_turn_stopped = true;
        }
    }

    /// Denies the requests whose time ran out; ends a wait for an instruction that ran out.
    pub(crate) fn on_deadline(&mut self, notes: &mut Notes) {
        let now = Instant::now();
        let minutes = self.timeout.map_or(0, |t| t.as_secs().div_ceil(60));
        let (expired, open): (Vec<_>, Vec<_>) =
            self.deadlines.drain(..).partition(|(_, at)| *at <= now);
        self.deadlines = open;
        for (request_id, _) in expired {
            if let Some(approval) = self.inner.claim_approval(self.id, &request_id) {
                let message = format!(
                    "Nobody answered within {minutes} minute{}, so Tasktray denied this request.",
                    if minutes == 1 { "" } else { "s" }
                );
                self.write(protocol::deny(&request_id, &message));
                self.resolved(&approval, ApprovalOutcome::TimedOut, Some(&message), notes);
            }
        }
        if self.instruction_due.is_some_and(|at| at <= now) {
            self.instruction_due = None;
            notes.push(note::notice(&format!(
                "No new instruction within {minutes} minute{} after the turn was stopped: the task ends.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
    }

    fn resolved(
        &self,
        approval: &Approval,
        outcome: ApprovalOutcome,
        message: Option<&str>,
        notes: &mut Notes,
    ) {
        notes.push(note::answer(approval, outcome, message));
        let _ = self.inner.events.send(Event::ApprovalResolved {
            task: self.id,
            request_id: approval.request_id.clone(),
            outcome,
        });
    }

    /// Every open request is withdrawn (its turn ended, the task was cancelled or ended).
    pub(crate) fn withdraw_all(&mut self, notes: &mut Notes) {
        self.deadlines.clear();
        for approval in self.inner.take_approvals(self.id) {
            self.resolved(&approval, ApprovalOutcome::Withdrawn, None, notes);
        }
    }

    /// Whether the user stopped the last turn and gave no new instruction.
    pub(crate) fn stopped_by_user(&self) -> bool {
        self.last_turn_stopped
    }

    /// Closes the agent's input when the task is over: every message answered, no request
    /// open, no instruction awaited. Returns whether it closed now.
    pub(crate) fn close_if_done(&mut self) -> bool {
        let done = self.input.is_some()
            && !self.in_turn
            && self.taken >= self.messages
            && self.deadlines.is_empty()
            && self.instruction_due.is_none()
            && !self.interrupting
            && self.inner.approvals_of(self.id).is_empty();
        if done {
            self.close();
        }
        done
    }

    /// Closes the agent's input: queued lines are still written, then the agent reads EOF.
    pub(crate) fn close(&mut self) {
        self.accepting.store(false, Ordering::SeqCst);
        self.input = None;
    }

    /// Publishes `waiting` while a request is open or an instruction is awaited, `running`
    /// otherwise.
    pub(crate) fn update_status(&mut self) {
        let waiting =
            self.instruction_due.is_some() || !self.inner.approvals_of(self.id).is_empty();
        if waiting == self.waiting {
            return;
        }
        self.waiting = waiting;
        let status = if waiting {
            TaskStatus::Waiting
        } else {
            TaskStatus::Running
        };
        let changed = self.inner.update(self.id, |r| {
            if r.status.is_running() {
                r.status = status;
            }
        });
        if let Some(record) = changed.filter(|r| r.status == status) {
            self.inner.persist(&record);
            let _ = self.inner.events.send(Event::StatusChanged {
                task: self.id,
                status,
            });
        }
    }

    /// The task ended: nothing waits any more, nothing more is written.
    pub(crate) fn end(&mut self, notes: &mut Notes) {
        self.withdraw_all(notes);
        self.instruction_due = None;
        self.close();
        if let Some(writer) = self.writer.take() {
            writer.abort();
        }
    }
}
