//! What a run found out (exit, cancel, result line, last words), and the final status and the
//! failure reason made of it.

use std::sync::Arc;

use crate::model::{ExitInfo, ResultSummary, TaskStatus};
use crate::protocol::FromAgent;

/// What the run found out, turned into the final status by [`Outcome::status`].
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) exit: Option<ExitInfo>,
    pub(super) cancelled: bool,
    /// An internal failure (the shim could not start).
    pub(super) error: Option<String>,
    pub(super) result: Option<ResultSummary>,
    pub(super) session_id: Option<String>,
    /// The last line on stderr, to explain a failure without a result line.
    pub(super) last_stderr: Option<Arc<str>>,
    /// The last line on stdout, for a text-format task: there claude prints its errors to
    /// stdout, and its whole answer is the error.
    pub(super) last_stdout: Option<Arc<str>>,
    /// What the agent said to the host that the conversation has not handled yet, in order
    /// (two-way tasks).
    pub(super) requests: Vec<FromAgent>,
    /// The user stopped the last turn and gave no new instruction.
    pub(super) stopped_by_user: bool,
}

impl Outcome {
    pub(super) fn status(&self) -> TaskStatus {
        if self.cancelled || self.stopped_by_user {
            TaskStatus::Cancelled
        } else if self.error.is_some() {
            TaskStatus::Failed
        } else if let Some(result) = &self.result {
            if result.is_error {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            }
        } else if self.exit == Some(ExitInfo::Code(0)) {
            TaskStatus::Completed
        } else {
            TaskStatus::Failed
        }
    }

    pub(super) fn failure_reason(&self) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        if let Some(result) = self.result.as_ref().filter(|r| r.is_error) {
            if !result.text.trim().is_empty() {
                return result.text.clone();
            }
            if let Some(line) = &self.last_stderr {
                return line.to_string();
            }
        }
        let exit = match self.exit {
            Some(ExitInfo::Code(code)) => format!("The agent exited with code {code}"),
            Some(ExitInfo::Signal(sig)) => format!("The agent was killed by signal {sig}"),
            None => "The agent's exit status is unknown".to_owned(),
        };
        match self.last_stderr.as_ref().or(self.last_stdout.as_ref()) {
            Some(line) => match fix_for(line) {
                // One line: notes go into the line-numbered log.
                Some(fix) => format!("{exit}: {line}. {fix}"),
                None => format!("{exit}: {line}"),
            },
            None => format!("{exit}."),
        }
    }
}

/// What to do about an agent's refusal that Tasktray recognises.
fn fix_for(line: &str) -> Option<&'static str> {
    if line.contains("cannot be used with root/sudo privileges") {
        return Some(
            "Claude Code refuses the Bypass permissions mode when it runs as root. Choose \
             another permission mode (\"Ask me\" lets you approve each tool), or run Tasktray \
             as a regular user.",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(is_error: bool) -> Option<ResultSummary> {
        Some(ResultSummary {
            is_error,
            text: "r".into(),
            ..ResultSummary::default()
        })
    }

    #[test]
    fn status_rules() {
        let status = |o: Outcome| o.status();
        // The result line decides, whatever the exit code.
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(1)),
                result: result(false),
                ..Outcome::default()
            }),
            TaskStatus::Completed
        );
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(0)),
                result: result(true),
                ..Outcome::default()
            }),
            TaskStatus::Failed
        );
        // Without one, the exit status does.
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Code(0)),
                ..Outcome::default()
            }),
            TaskStatus::Completed
        );
        assert_eq!(
            status(Outcome {
                exit: Some(ExitInfo::Signal(9)),
                ..Outcome::default()
            }),
            TaskStatus::Failed
        );
        // A cancel wins over everything (claude exits 0 after SIGINT).
        assert_eq!(
            status(Outcome {
                cancelled: true,
                exit: Some(ExitInfo::Code(0)),
                result: result(true),
                ..Outcome::default()
            }),
            TaskStatus::Cancelled
        );
        let failed = Outcome {
            exit: Some(ExitInfo::Code(127)),
            last_stderr: Some(Arc::from("no such file")),
            ..Outcome::default()
        };
        assert_eq!(
            failed.failure_reason(),
            "The agent exited with code 127: no such file"
        );
        let as_root = Outcome {
            exit: Some(ExitInfo::Code(1)),
            last_stderr: Some(Arc::from(
                "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
            )),
            ..Outcome::default()
        };
        let reason = as_root.failure_reason();
        assert!(
            reason.contains("for security reasons. Claude Code refuses"),
            "{reason}"
        );
        assert!(reason.contains("\"Ask me\""), "{reason}");
    }
}
