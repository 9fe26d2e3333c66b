//! Writes a task's output to stdout, as the readable transcript, the raw lines or JSON, each
//! line once (by sequence number), whether it comes from this process's supervisor or from the
//! app's event stream.

use std::io::Write;

use supervisor::transcript::Entry;
use supervisor::{Event, OutputFormat, OutputLine, TaskId};

use crate::cli::OutputArgs;
use crate::render;

pub(super) struct Printer {
    format: OutputFormat,
    output: OutputArgs,
    /// The next line sequence number expected; lines before it were printed already.
    next_seq: u64,
    out: std::io::BufWriter<std::io::Stdout>,
    /// stdout's reader went away; the task still runs to its end.
    closed: bool,
    /// Requests are asked on this terminal, so the transcript need not show them too.
    asks_here: bool,
}

impl Printer {
    pub(super) fn new(format: OutputFormat, output: OutputArgs, asks_here: bool) -> Self {
        Printer {
            format,
            output,
            next_seq: 0,
            out: std::io::BufWriter::new(std::io::stdout()),
            closed: false,
            asks_here,
        }
    }

    pub(super) fn event(&mut self, event: &Event) {
        let Event::Output { task, lines } = event else {
            if self.output.json {
                self.json(event);
            }
            return;
        };
        for line in lines.iter() {
            self.line(*task, line);
        }
    }

    pub(super) fn line(&mut self, task: TaskId, line: &OutputLine) {
        // Lines seen already (after a resync) are skipped.
        if line.seq < self.next_seq {
            return;
        }
        self.next_seq = line.seq + 1;
        if self.output.json {
            // One object per line, whatever the batching inside.
            self.json(&serde_json::json!({ "type": "output", "task": task, "line": line }));
        } else if self.output.raw {
            self.write(&line.text);
        } else {
            // A request asked on this terminal is shown whole by the question itself.
            let asked_here = self.asks_here;
            let keep = |e: &Entry| !(asked_here && matches!(e, Entry::Approval { .. }));
            for text in render::output_line_but(self.format, &line.text, keep) {
                self.write(&text);
            }
        }
    }

    /// An event as JSON, in `--json` mode.
    pub(super) fn json(&mut self, value: &impl serde::Serialize) {
        if !self.output.json {
            return;
        }
        match serde_json::to_string(value) {
            Ok(json) => self.write(&json),
            Err(e) => say!("taskctl: cannot encode an event: {e}"),
        }
    }

    /// After falling behind the event stream: prints `tail` (what is still held) from where we
    /// were, and says how much was skipped.
    pub(super) fn resync(&mut self, id: TaskId, tail: &[OutputLine]) {
        if let Some(first) = tail.first() {
            if first.seq > self.next_seq && !self.output.json {
                say!(
                    "… {} lines skipped here (taskctl logs {id} has them all)",
                    first.seq - self.next_seq
                );
            }
        }
        for line in tail {
            self.line(id, line);
        }
    }

    fn write(&mut self, text: &str) {
        if !self.closed && writeln!(self.out, "{text}").is_err() {
            self.closed = true;
        }
    }

    pub(super) fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
