//! # fake-claude: a scripted stand-in for the `claude` CLI
//!
//! Tasktray's integration tests and benchmarks run this binary instead of the real Claude Code CLI
//! (v2.1.x). It accepts the same print-mode command line, writes the same output formats, and does
//! whatever the prompt asks it to do: print, run tools, flood, sleep, leave processes behind, trap
//! signals, crash.
//!
//! ## Command line
//!
//! ```text
//! fake-claude -p [PROMPT] [--output-format text|stream-json|json] [--verbose]
//!             [--permission-mode MODE] [--no-session-persistence] [--model M]
//!             [--resume SESSION_ID] [--dangerously-skip-permissions] [--version] [--help]
//! ```
//!
//! - `-p`/`--print` is a flag; the prompt is the one positional argument. With no positional
//!   prompt, the whole of stdin is the prompt (for prompts that are huge or start with `-`). No
//!   prompt and stdin a TTY or empty: an error on stderr, exit 1. An argument that starts with `-`
//!   is always an option, so an unknown one is an error (exit 1), as with the real CLI.
//! - `--output-format stream-json` needs `--verbose` (else an error on stderr, exit 1).
//! - `--version` prints `2.1.332 (Claude Code)`.
//! - `--resume ID` reuses ID as the session id, and the implicit final answer (echo, or a script
//!   that ends without `result`) becomes `resumed ID: <answer>`.
//!
//! ## Output formats
//!
//! - `text` (default): nothing until the end, then the final answer and a newline on stdout. An
//!   error's message goes to stdout too, with exit 1.
//! - `json`: one result object at the end (the shape of the stream-json `result` line).
//! - `stream-json`: one JSON object per line, flushed line by line: `system`/`init` first, then
//!   `assistant` (text or `tool_use`) and `user` (`tool_result`) lines, and a `result` line last
//!   (`is_error` true for errors, `subtype` still `"success"`, as the real CLI does).
//!
//! Raw directives (`flood`, `huge`, `invalid-utf8`) write plain bytes to stdout in every format.
//!
//! ## Behaviour: echo, or a script
//!
//! A prompt that does not start with `fake:` is echoed: the final answer is exactly the prompt,
//! sent as one assistant text and the result. A prompt that starts with `fake:` is a script:
//! directives separated by newlines or `;` (write `\;` for a literal `;`, e.g. inside `tool`),
//! run in order. Blank directives and ones starting with `#` are skipped. Any directive is
//! checked before the first one runs; an unknown or malformed one gives an error result, exit 1.
//!
//! | directive | effect |
//! |---|---|
//! | `say TEXT` | an assistant text; also appended (newline-joined) to the implicit final answer |
//! | `tool CMD` | a Bash tool call: `sh -c CMD` in the cwd, in its own session, stdin `/dev/null`; its stdout is the tool result (`is_error` when it exits non-zero) |
//! | `flood N [BYTES]` | N plain lines of BYTES bytes (default 120) plus `\n`, as fast as possible; each line starts with a zero-padded counter from 0 and a space, when it fits, then `x`s |
//! | `huge BYTES` | one plain line of BYTES `x` bytes plus `\n` |
//! | `invalid-utf8` | the raw line `ok \xff\xfe bad \xc3\x28 end\n` |
//! | `stderr N` | N lines `stderr line K` (K = 1..=N) on stderr |
//! | `sleep SECS` | sleep (fractions allowed) |
//! | `trap-term` | ignore SIGTERM from now on (SIGKILL still works) |
//! | `tool-child` | start a process in its own session that ignores SIGTERM and sleeps 600 s; say `tool-child pid N` |
//! | `daemon` | start a process in its own session that sleeps 600 s (dies on SIGTERM), never waited for; say `daemon pid N` |
//! | `exit N` | exit now with code N (0..=255), no result |
//! | `result success TEXT` | end now: result `TEXT`, exit 0 |
//! | `result error TEXT` | end now: result `TEXT` with `is_error` true, exit 1 |
//! | `result error-subtype TEXT` | as `result error`, with subtype `error_during_execution` |
//! | `crash SIG` | raise signal SIG (`SEGV`, `SIGABRT`, `KILL`, `9`, ...) with its default action; no core dump. If the process survives (`STOP`, then `CONT`), the script goes on |
//! | `wait-stdin` | read stdin to EOF (returns at once for `/dev/null`) |
//!
//! Byte sizes (`BYTES`) may end in `K` or `M` (KiB, MiB). A script that ends without `exit` or
//! `result` ends with a success result: the `say` texts joined by newlines, or `done`. The
//! processes of `tool-child` and `daemon` are children of fake-claude with stdin and stderr on
//! `/dev/null` and stdout on a private start-handshake pipe, so they never hold the caller's
//! pipes; find them by pid (or session). `tool` commands get stdin `/dev/null` and two capture
//! pipes, so they do not hold the caller's pipes either. If stdout cannot be written (the reader
//! is gone), fake-claude says so on stderr and exits 1.
//!
//! Example: `fake: say starting; tool ls; flood 1000; stderr 3; sleep 0.5; say finished`.
//!
//! ## Signals
//!
//! - SIGINT: write an error result (`Request was aborted.`; in text mode, the message) and exit 0,
//!   as the real CLI does.
//! - SIGTERM: die by its default action, unless `trap-term` ran.
//!
//! ## Recording
//!
//! With `FAKE_CLAUDE_RECORD=<path>`, one JSON line is appended to that file at start:
//! `{"pid","argv","prompt","prompt_from_stdin","cwd","stdin_is_pipe","env_CLAUDECODE","env_TASKTRAY"}`
//! (`env_TASKTRAY` holds every variable whose name starts with `TASKTRAY_`).

mod args;
mod emit;
mod ids;
mod json;
mod player;
mod procs;
mod raw;
mod record;
mod run;
mod script;
mod signals;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    if argv.get(1).map(String::as_str) == Some(procs::INTERNAL_FLAG) {
        return procs::internal_main(&argv[2..]);
    }
    run::main(&argv)
}
