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
//!             [--input-format text|stream-json] [--replay-user-messages]
//!             [--permission-mode MODE] [--permission-prompt-tool stdio]
//!             [--allowedTools RULES...] [--disallowedTools RULES...]
//!             [--no-session-persistence] [--model M] [--resume SESSION_ID]
//!             [--dangerously-skip-permissions] [--version] [--help]
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
//! - `--input-format stream-json` selects two-way mode (below). It needs `--output-format
//!   stream-json` (else `Error: --input-format=stream-json requires output-format=stream-json.`,
//!   exit 1) and takes no prompt argument (else an error, exit 1). `--replay-user-messages` needs
//!   both formats to be stream-json.
//! - `--permission-mode`: `default`, `acceptEdits`, `auto`, `bypassPermissions`, `dontAsk`,
//!   `plan`, or `manual` (another name for `default`, reported as `default`); anything else is an
//!   error listing the real CLI's choices (which leave out `default`). As root, `bypassPermissions`
//!   is refused on stderr (exit 1, no result) unless `IS_SANDBOX=1`, as the real CLI does.
//! - `--allowedTools`/`--allowed-tools` and `--disallowedTools`/`--disallowed-tools`: permission
//!   rules separated by commas or spaces outside parentheses (`"Bash(git *),Edit Read"`); they may
//!   repeat. Like the real CLI's, these options are variadic: they also take the following
//!   arguments up to the next option, so a prompt goes before them or after `--`.
//! - `--permission-prompt-tool stdio`: in two-way mode, a tool call that needs permission is asked
//!   of the host (`can_use_tool`). Without it (any other value, or one-way mode) nobody can be
//!   asked and such a call is refused.
//!
//! ## Output formats
//!
//! - `text` (default): nothing until the end, then the final answer and a newline on stdout. An
//!   error's message goes to stdout too, with exit 1.
//! - `json`: one result object at the end (the shape of the stream-json `result` line).
//! - `stream-json`: one JSON object per line, flushed line by line: `system`/`init` first, then
//!   `assistant` (text or `tool_use`) and `user` (`tool_result`) lines, and a `result` line last
//!   (`is_error` true for errors, `subtype` still `"success"`, as the real CLI does). The result
//!   carries `permission_denials` (the refused tool calls of the turn: `tool_name`, `tool_use_id`,
//!   `tool_input`), `result_index` (0, 1, ... per process) and `total_cost_usd` (a running total).
//!
//! Raw directives (`flood`, `huge`, `invalid-utf8`) write plain bytes to stdout in every format.
//!
//! ## Two-way mode (`--input-format stream-json`)
//!
//! Claude Code's host protocol, as measured on 2.1.332. stdin carries JSON lines, read by a
//! thread of their own (so interrupts, tools and signals run concurrently):
//!
//! - `{"type":"user","message":{"role":"user","content":TEXT}}` (or `content` an array of blocks,
//!   whose `text` blocks are joined by newlines): a user message. Each one is the prompt of a turn
//!   (echo or script, as below). A message that arrives while a turn runs is queued and becomes its
//!   own turn after the current one (unless `wait-message` takes it). Every turn writes its own
//!   `system`/`init` line, then (with `--replay-user-messages`) its message echoed as
//!   `{"type":"user","message":{"role":"user","content":<as sent>},"session_id",
//!   "parent_tool_use_id":null,"uuid","isReplay":true}`, then its lines and its result. All turns
//!   share the session id.
//! - `control_request` `initialize`: answered at once with a success `control_response` carrying
//!   a short version of the real answer (`commands`, `agents`, `models`, `account`, `pid`,
//!   `claude_code_version`, `current_permission_mode`, `session_state`, ...). Not required: a user
//!   message without it works, and one sent before it may start its turn first.
//! - `control_request` `interrupt`: while a turn runs, it stops at once: a running `tool`/`ask`
//!   command's process group is killed (and reaped), a `sleep`/`wait-*`/permission wait ends. Then,
//!   as in the real CLI: the answer `{"type":"control_response","response":{"subtype":"success",
//!   "request_id":ID,"response":{"still_queued":[]}}}`; if a tool call was cut short, its
//!   `is_error` tool_result (`The user doesn't want to proceed with this tool use...`, plus `...this
//!   call was stopped while running...` if it ran); a user line `[Request interrupted by user for
//!   tool use]` (or `[Request interrupted by user]`); and a result with subtype
//!   `error_during_execution`, `is_error` true, no `result` but `errors`, `terminal_reason`
//!   `aborted_tools` (or `aborted_streaming`). Queued messages are kept. While idle, an interrupt is
//!   only answered.
//! - Any other `control_request` subtype (or none): an error response `Unsupported control request
//!   subtype: X` (`undefined` if none) with `"error_code":"unsupported_request"`. A control request
//!   without `request_id`: a line on stderr, nothing else.
//! - `control_response`: the host's answer to one of fake-claude's requests (`can_use_tool`,
//!   `bad-control`); one with an unknown `request_id` is ignored.
//! - Blank lines, JSON of another `type`, and JSON that is not an object are ignored. A line that
//!   is not JSON is fatal, as in the real CLI: `Error parsing streaming input line (type=T, N
//!   chars): SyntaxError` on stderr (T the line's `"type"` or `unknown`), the running tool killed,
//!   exit 1, no result.
//! - stdin EOF: the running turn still runs to its end (a pending or later permission question is
//!   refused with `Tool permission request failed: AbortError: Tool permission stream closed
//!   before response received`), queued messages run, then fake-claude exits: 0 if the last result
//!   was a success (or there was none), 1 if it was an error (an interrupt's included).
//!
//! In two-way mode `result ...` ends the turn (not the process), `exit N` ends the process at once,
//! `wait-stdin` waits for stdin's EOF. SIGINT while a turn runs writes the abort result and exits
//! 0; while idle it exits 0 without a line.
//!
//! ## Permissions (`ask`)
//!
//! `ask` writes the tool_use line, then decides as Claude Code does, in this order:
//!
//! 1. a `--disallowedTools` rule matches: refused (`Permission to use Bash with command CMD has
//!    been denied.`, `Permission to use Write has been denied.`);
//! 2. `bypassPermissions`: runs;
//! 3. an `--allowedTools` rule matches: runs. `Bash` (or `Bash(*)`) matches every command;
//!    `Bash(git *)` is a wildcard (a trailing ` *` also matches bare `git`), `Bash(npm test:*)` a
//!    prefix, `Bash(CMD)` exact; every part of `a && b`, `a; b`, `a | b` must match (for a deny
//!    rule, any part). A command with output redirection to a file (`> f`) is only covered by
//!    `Bash`: the real CLI checks the target on its own. File rules: `Write`, `Edit` (which covers
//!    Write too), `Write(PATTERN)`/`Edit(PATTERN)` with `//abs/path`, `~/home/path`,
//!    `/cwd/relative`, `./rel` or `rel/x` (from the cwd), or a bare `name` at any depth; `**`
//!    crosses directories, `*` and `?` do not;
//! 4. a read-only Bash command (`cat`, `echo`, `grep`, `head`, `ls`, `pwd`, `wc`, `git
//!    status|log|diff|show`, ... without `>`, `$(` or backquotes): runs, in every mode;
//! 5. `acceptEdits` and `auto`: Write/Edit inside the cwd, and `mkdir`/`touch`/`mv`/`cp` or
//!    output redirection inside the cwd, run;
//! 6. `dontAsk` refuses (`Permission to use Bash has been denied because Claude Code is running in
//!    don't ask mode. IMPORTANT: ...`); `auto` and `plan` refuse (`Auto mode is unavailable: its
//!    safety check does not run for this session, so Bash was not run. ...`, as the real CLI does
//!    without Anthropic's server);
//! 7. `default`: with `--permission-prompt-tool stdio` in two-way mode, fake-claude asks the host
//!    and waits (no timeout; interrupts still work; queued messages stay queued):
//!    `{"type":"control_request","request_id":UUID,"request":{"subtype":"can_use_tool",
//!    "tool_name","display_name","input","description","permission_suggestions",["blocked_path"],
//!    ["decision_reason","decision_reason_type"],"tool_use_id"}}`. Bash: `description` is the
//!    input's; suggestions `addRules` with `ruleContent` the command's first two words (fewer if an
//!    option or redirection comes first) and ` *`, and for output redirection `blocked_path` (the
//!    target) plus `addDirectories` (its directory). Write/Edit: `description` the path relative to
//!    the cwd (absolute outside); suggestion `setMode` `acceptEdits`; outside the cwd also
//!    `addDirectories` (the parent) and `decision_reason` `Path is outside allowed working
//!    directories` / `workingDir`. Otherwise nobody can be asked: refused with the real CLI's
//!    explanation (`Output redirection to 'PATH' needs approval. The path is inside the working
//!    directories for this session ('CWD'), and Claude Code asks before a shell command creates,
//!    changes or removes files there.`; else `... Claude requested permissions to ...`).
//!
//! The host's answer: `{"behavior":"allow"[,"updatedInput":{...}]}` runs the call (with the fields
//! `updatedInput` gives; `updatedPermissions` is ignored); `{"behavior":"deny","message":M}`
//! refuses it with M; with `"interrupt":true` it also ends the turn like an interrupt (the
//! standard rejection text, not M). An `error` response refuses it with `Tool permission request
//! failed: Error: <error>`.
//!
//! A refusal writes the `is_error` tool_result with its message, counts the call in the result's
//! `permission_denials`, and the script goes on; a refusal the host did not make is announced first
//! by a `{"type":"system","subtype":"permission_denied","tool_name","tool_use_id","message",...}`
//! line. Allowed calls run: Bash as `tool` does (no output reads `(Bash completed with no
//! output)`), Write writes CONTENT to PATH (creating directories), Edit replaces the first OLD by
//! NEW (an error tool_result if the file or OLD is missing). Tool results carry the real CLI's
//! `tool_result_meta` permission decision. After each call `ask` says `ask allowed` or `ask
//! denied: <message>`.
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
//! | `ask Bash CMD` | a Bash tool call that needs permission (see Permissions), run as `tool` if allowed |
//! | `ask Write PATH CONTENT...` | a Write call: CONTENT (the rest of the directive, may be empty) to PATH (relative to the cwd) |
//! | `ask Edit PATH OLD NEW` | an Edit call: the first OLD in PATH becomes NEW (single words) |
//! | `flood N [BYTES]` | N plain lines of BYTES bytes (default 120) plus `\n`, as fast as possible; each line starts with a zero-padded counter from 0 and a space, when it fits, then `x`s |
//! | `chatter N [BYTES]` | N assistant texts (stream-json: N `assistant` lines; text: nothing until the answer) of BYTES bytes (default 120), each starting with a zero-padded counter from 0; not part of the final answer |
//! | `huge BYTES` | one plain line of BYTES `x` bytes plus `\n` |
//! | `invalid-utf8` | the raw line `ok \xff\xfe bad \xc3\x28 end\n` |
//! | `stderr N` | N lines `stderr line K` (K = 1..=N) on stderr |
//! | `sleep SECS` | sleep (fractions allowed) |
//! | `wait-file PATH` | wait until PATH exists (a barrier a test opens; at most 60 s) |
//! | `trap-term` | ignore SIGTERM from now on (SIGKILL still works) |
//! | `tool-child` | start a process in its own session that ignores SIGTERM and sleeps 600 s; say `tool-child pid N` |
//! | `daemon` | start a process in its own session that sleeps 600 s (dies on SIGTERM), never waited for; say `daemon pid N` |
//! | `exit N` | exit now with code N (0..=255), no result |
//! | `result success TEXT` | end now: result `TEXT`, exit 0 (two-way: end the turn) |
//! | `result error TEXT` | end now: result `TEXT` with `is_error` true, exit 1 (two-way: end the turn) |
//! | `result error-subtype TEXT` | as `result error`, with subtype `error_during_execution` |
//! | `crash SIG` | raise signal SIG (`SEGV`, `SIGABRT`, `KILL`, `9`, ...) with its default action; no core dump. If the process survives (`STOP`, then `CONT`), the script goes on |
//! | `wait-stdin` | read stdin to EOF (returns at once for `/dev/null`); two-way: wait for stdin's EOF |
//! | `wait-message` | two-way: wait for the next user message and take it into this turn (replayed with `--replay-user-messages`): say `got message: TEXT`, or `got message: none` at EOF (at once in one-way mode) |
//! | `bad-control` | write `{"type":"control_request","request_id":"fake-bad-1","request":{"subtype":"no_such_thing"}}` and `{"type":"control_request"}`, wait up to 10 s for the host's `control_response` to `fake-bad-1`, say `bad-control answered: SUBTYPE: ERROR` (ERROR the `error` text, else the `response` JSON) or `bad-control: no answer` (at once in one-way mode, or at EOF) |
//!
//! In two-way mode `sleep`, `tool`, `ask`, `wait-stdin`, `wait-message` and `bad-control` end at
//! once on an interrupt, which ends the turn (see above); the other directives are quick.
//!
//! Byte sizes (`BYTES`) may end in `K` or `M` (KiB, MiB). A script that ends without `exit` or
//! `result` ends with a success result: the assistant texts joined by newlines (`say`, and the
//! texts of `tool-child`, `daemon`, `ask`, `wait-message`, `bad-control`), or `done`. The
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
//! `{"pid","argv","prompt","prompt_from_stdin","cwd","stdin_is_pipe","env_CLAUDECODE","env_TASKTRAY",
//! "input_format","permission_mode","permission_prompt_tool","allowed_tools","disallowed_tools"}`
//! (`env_TASKTRAY` holds every variable whose name starts with `TASKTRAY_`; the last five are
//! null or empty when the command line did not parse; the rule lists are split). In two-way
//! mode every user message and control message read from stdin is appended too, as
//! `{"pid":N,"stdin":<the message as parsed>}`, before it is acted on.

mod args;
mod ask;
mod converse;
mod emit;
mod ids;
mod inbox;
mod json;
mod permissions;
mod player;
mod procs;
mod protocol;
mod raw;
mod record;
mod rules;
mod run;
mod script;
mod signals;
mod stdin;

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
