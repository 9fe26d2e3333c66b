//! The API's own request and response bodies; tasks, output lines, approvals, decisions and
//! events are the core's types as they are.

use serde::{Deserialize, Serialize};
use supervisor::{Approval, OutputLine, TaskId, TaskRecord};
use utoipa::ToSchema;

/// One page of `GET /v1/tasks`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<TaskId>,
    /// How many tasks match the query, on every page.
    pub total: u64,
}

/// A page of a task's output, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutputPage {
    pub lines: Vec<OutputLine>,
    /// Pass as `before` for the page before this one; absent when this page starts at the
    /// task's first line.
    pub before: Option<u64>,
    /// The sequence number after this page's last line. For the tail (no `before`), the next
    /// line of the task will have it: events with lower numbers are already in this page.
    pub next_seq: u64,
}

impl OutputPage {
    /// A page of `lines` that ends before sequence number `end`.
    pub(crate) fn new(lines: Vec<OutputLine>, end: u64) -> Self {
        let next_seq = lines.last().map_or(end, |l| l.seq + 1);
        // An empty page has nothing before it: a client paging back stops here.
        let before = lines.first().map(|l| l.seq).filter(|first| *first > 0);
        OutputPage {
            lines,
            before,
            next_seq,
        }
    }
}

/// `POST /v1/tasks/{id}/messages`: a message into a running task's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageBody {
    pub message: String,
}

/// `POST /v1/tasks/{id}/follow-up`: continue a finished task's session as a new task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FollowUpBody {
    pub prompt: String,
}

/// Requests that wait for the user, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
}

/// `GET /v1/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionInfo {
    /// The route prefix this server speaks, `v1`.
    pub api: String,
    /// Tasktray's version.
    pub version: String,
}

/// The `resync` event of `GET /v1/events`: the reader fell behind and `skipped` events were
/// dropped for it. Re-read what you show (the task list, the output tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResyncEvent {
    pub skipped: u64,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn line(seq: u64) -> OutputLine {
        OutputLine {
            seq,
            stream: supervisor::Stream::Stdout,
            text: Arc::from("x"),
            continued: false,
        }
    }

    #[test]
    fn pages_say_where_the_previous_page_ends() {
        let page = OutputPage::new(vec![line(5), line(6)], 7);
        assert_eq!((page.before, page.next_seq), (Some(5), 7));
        let first = OutputPage::new(vec![line(0), line(1)], 2);
        assert_eq!((first.before, first.next_seq), (None, 2));
        let empty = OutputPage::new(Vec::new(), 0);
        assert_eq!((empty.before, empty.next_seq), (None, 0));
    }
}
