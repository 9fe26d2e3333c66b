//! The in-memory tail of a task's output. The full output is on disk; the ring keeps the last
//! lines for live views, bounded by a line count and a byte count.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::model::{OutputLine, Stream};

/// Default number of lines kept per task (the seed's `deque(maxlen=1000)`).
pub const DEFAULT_RING_LINES: usize = 1000;
/// Default byte bound per task, so 100 tasks of long lines stay within a few hundred MiB.
pub const DEFAULT_RING_BYTES: usize = 2 * 1024 * 1024;

/// A bounded ring of output lines with sequence numbers.
#[derive(Debug)]
pub struct OutputRing {
    lines: VecDeque<OutputLine>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    next_seq: u64,
}

impl OutputRing {
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        OutputRing {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines: max_lines.max(1),
            max_bytes,
            next_seq: 0,
        }
    }

    /// Appends a line, numbers it, and drops the oldest lines past either bound (the newest
    /// line always stays).
    pub fn push(&mut self, stream: Stream, text: Arc<str>, continued: bool) -> OutputLine {
        let line = OutputLine {
            seq: self.next_seq,
            stream,
            text,
            continued,
        };
        self.next_seq += 1;
        self.bytes += line.text.len();
        self.lines.push_back(line.clone());
        while self.lines.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.lines.len() > 1)
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len();
            }
        }
        line
    }

    /// Starts numbering at `seq` (for a ring rebuilt from a log that had earlier lines).
    pub fn with_next_seq(mut self, seq: u64) -> Self {
        self.next_seq = seq;
        self
    }

    pub fn snapshot(&self) -> Vec<OutputLine> {
        self.lines.iter().cloned().collect()
    }

    /// The lines numbered `seq` and later that are still held.
    pub fn since(&self, seq: u64) -> Vec<OutputLine> {
        let first = self.lines.front().map_or(self.next_seq, |l| l.seq);
        let skip = seq.saturating_sub(first) as usize;
        self.lines.iter().skip(skip).cloned().collect()
    }

    /// The sequence number the next line will get, i.e. the count of lines ever pushed.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The held lines joined with newlines (the seed's `get_task_output`).
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&line.text);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn push(ring: &mut OutputRing, s: &str) -> OutputLine {
        ring.push(Stream::Stdout, Arc::from(s), false)
    }

    #[test]
    fn keeps_last_lines_with_sequence_numbers() {
        let mut ring = OutputRing::new(3, usize::MAX);
        for i in 0..5 {
            push(&mut ring, &format!("l{i}"));
        }
        let seqs: Vec<u64> = ring.snapshot().iter().map(|l| l.seq).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        assert_eq!(ring.text(), "l2\nl3\nl4");
        assert_eq!(ring.since(3).len(), 2);
        assert_eq!(ring.since(0).len(), 3);
        assert!(ring.since(5).is_empty());
    }

    #[test]
    fn byte_bound_keeps_at_least_the_newest_line() {
        let mut ring = OutputRing::new(100, 10);
        push(&mut ring, "12345");
        push(&mut ring, "123456789012");
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.snapshot()[0].seq, 1);
    }

    proptest! {
        /// Whatever is pushed, both bounds hold (but for one oversized newest line), sequence
        /// numbers are consecutive, and the held lines are the newest ones.
        #[test]
        fn bounds_and_order(lens in proptest::collection::vec(0usize..50, 1..300),
                            max_lines in 1usize..40, max_bytes in 0usize..400) {
            let mut ring = OutputRing::new(max_lines, max_bytes);
            for (i, len) in lens.iter().enumerate() {
                let line = push(&mut ring, &"x".repeat(*len));
                prop_assert_eq!(line.seq, i as u64);
                prop_assert!(ring.len() <= max_lines);
                prop_assert!(ring.bytes() <= max_bytes || ring.len() == 1);
                let snap = ring.snapshot();
                prop_assert_eq!(snap.last().map(|l| l.seq), Some(i as u64));
                for pair in snap.windows(2) {
                    prop_assert_eq!(pair[0].seq + 1, pair[1].seq);
                }
                prop_assert_eq!(snap.iter().map(|l| l.text.len()).sum::<usize>(), ring.bytes());
            }
        }
    }
}
