//! Talking to a running two-way task: answering its agent's requests, sending it a message,
//! stopping its current turn. Each call checks what it can at once (so the caller gets a typed
//! error) and hands the rest to the task's runner, the only one that writes to the agent.

use tokio::sync::mpsc::error::TrySendError;

use crate::approval::{Approval, Decision};
use crate::conversation::{Control, Line};
use crate::error::{Error, Result};
use crate::model::TaskId;
use crate::Supervisor;

impl Supervisor {
    /// Every request that waits for the user, across tasks, oldest first.
    pub fn pending_approvals(&self) -> Vec<Approval> {
        self.inner.all_approvals()
    }

    /// The requests of one task that wait for the user, oldest first.
    pub fn approvals(&self, task: TaskId) -> Vec<Approval> {
        self.inner.approvals_of(task)
    }

    /// Answers one of a task's open requests. Exactly one answer wins: a request that was
    /// answered elsewhere, timed out or withdrawn gives [`Error::ApprovalNotFound`].
    pub fn answer(&self, task: TaskId, request_id: &str, decision: Decision) -> Result<()> {
        let line = self.line(task)?;
        let approval =
            self.inner
                .claim_approval(task, request_id)
                .ok_or_else(|| Error::ApprovalNotFound {
                    task,
                    request_id: request_id.to_owned(),
                })?;
        match line
            .control
            .try_send(Control::Answer { approval, decision })
        {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Control::Answer { approval, .. })) => {
                // Put it back, so the user can answer again.
                self.inner.add_approval(approval);
                Err(Error::InputBusy { id: task })
            }
            // The runner is gone: the task ended, which withdraws its requests.
            Err(_) => Err(Error::TaskNotRunning { id: task }),
        }
    }

    /// Sends a message into a running task's session. Mid-turn, the agent takes it when its
    /// current turn ends; it is then a turn of its own.
    pub fn send(&self, task: TaskId, message: &str) -> Result<()> {
        let message = message.trim();
        if message.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if message.contains('\0') {
            return Err(Error::PromptHasNul);
        }
        self.control(task, Control::Send(message.to_owned()))
    }

    /// Stops the task's current turn: a running tool is stopped, the agent stays, and the task
    /// waits for a new instruction ([`Supervisor::send`]). Does nothing between turns.
    pub fn interrupt(&self, task: TaskId) -> Result<()> {
        self.control(task, Control::Interrupt)
    }

    fn control(&self, task: TaskId, control: Control) -> Result<()> {
        let line = self.line(task)?;
        if !line.is_accepting() {
            return Err(Error::InputClosed { id: task });
        }
        line.control.try_send(control).map_err(|e| match e {
            TrySendError::Full(_) => Error::InputBusy { id: task },
            TrySendError::Closed(_) => Error::TaskNotRunning { id: task },
        })
    }

    fn line(&self, task: TaskId) -> Result<Line> {
        self.live(task)?.line.ok_or(Error::NotTwoWay { id: task })
    }
}
