//! The behaviour script: parsing a `fake:` prompt into directives (see the crate docs).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;

/// The prefix that turns a prompt into a script.
pub(crate) const SCRIPT_PREFIX: &str = "fake:";
/// `flood` line length when none is given (the benchmark's 120-byte lines).
pub(crate) const DEFAULT_FLOOD_BYTES: usize = 120;

/// What the prompt asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Behaviour {
    /// Answer with the prompt itself.
    Echo,
    Script(Vec<Directive>),
}

/// How a `result` directive ends the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultKind {
    Success,
    Error,
    ErrorSubtype,
}

/// The tool of an `ask` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AskTool {
    Bash(String),
    Write {
        path: String,
        content: String,
    },
    Edit {
        path: String,
        old: String,
        new: String,
    },
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Directive {
    Say(String),
    Tool(String),
    Flood {
        lines: u64,
        bytes: usize,
    },
    /// N assistant texts of about BYTES bytes each, not part of the final answer.
    Chatter {
        messages: u64,
        bytes: usize,
    },
    Huge(usize),
    InvalidUtf8,
    Stderr(u64),
    Sleep(Duration),
    TrapTerm,
    ToolChild,
    Daemon,
    Exit(u8),
    Result {
        kind: ResultKind,
        text: String,
    },
    Crash(Signal),
    WaitStdin,
    Ask(AskTool),
    BadControl,
    WaitMessage,
    WaitFile(std::path::PathBuf),
}

/// A directive that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptError {
    /// 1-based position among the script's non-blank directives.
    pub(crate) index: usize,
    pub(crate) directive: String,
    pub(crate) reason: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fake-claude: bad directive #{} `{}`: {}",
            self.index, self.directive, self.reason
        )
    }
}

/// Reads the prompt: a script if it starts with [`SCRIPT_PREFIX`], else echo.
pub(crate) fn behaviour(prompt: &str) -> Result<Behaviour, ScriptError> {
    match prompt.strip_prefix(SCRIPT_PREFIX) {
        None => Ok(Behaviour::Echo),
        Some(script) => parse(script).map(Behaviour::Script),
    }
}

/// Parses a script body (the text after `fake:`).
pub(crate) fn parse(script: &str) -> Result<Vec<Directive>, ScriptError> {
    split(script)
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty() && !d.starts_with('#'))
        .enumerate()
        .map(|(i, d)| {
            parse_directive(d).map_err(|reason| ScriptError {
                index: i + 1,
                directive: d.to_owned(),
                reason,
            })
        })
        .collect()
}

/// Splits on newlines and on `;`, except an escaped `\;`.
fn split(script: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                chars.next();
                push(&mut parts, ';');
            }
            ';' | '\n' => parts.push(String::new()),
            _ => push(&mut parts, c),
        }
    }
    parts
}

fn push(parts: &mut [String], c: char) {
    if let Some(last) = parts.last_mut() {
        last.push(c);
    }
}

fn parse_directive(text: &str) -> Result<Directive, String> {
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let directive = match word {
        "say" => Directive::Say(rest.to_owned()),
        "tool" if rest.is_empty() => return Err("`tool` needs a command".to_owned()),
        "tool" => Directive::Tool(rest.to_owned()),
        "flood" => match args.as_slice() {
            [lines] => Directive::Flood {
                lines: count(lines)?,
                bytes: DEFAULT_FLOOD_BYTES,
            },
            [lines, bytes] => Directive::Flood {
                lines: count(lines)?,
                bytes: size(bytes)?,
            },
            _ => return Err("usage: flood N [BYTES]".to_owned()),
        },
        "chatter" => match args.as_slice() {
            [messages] => Directive::Chatter {
                messages: count(messages)?,
                bytes: DEFAULT_FLOOD_BYTES,
            },
            [messages, bytes] => Directive::Chatter {
                messages: count(messages)?,
                bytes: size(bytes)?,
            },
            _ => return Err("usage: chatter N [BYTES]".to_owned()),
        },
        "huge" => Directive::Huge(size(one(&args, "huge BYTES")?)?),
        "invalid-utf8" => none(&args, Directive::InvalidUtf8)?,
        "stderr" => Directive::Stderr(count(one(&args, "stderr N")?)?),
        "sleep" => {
            let secs = one(&args, "sleep SECS")?;
            let secs: f64 = secs
                .parse()
                .map_err(|_| format!("`{secs}` is not a number of seconds"))?;
            Directive::Sleep(
                Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration: {e}"))?,
            )
        }
        "trap-term" => none(&args, Directive::TrapTerm)?,
        "tool-child" => none(&args, Directive::ToolChild)?,
        "daemon" => none(&args, Directive::Daemon)?,
        "exit" => {
            let code = one(&args, "exit N")?;
            Directive::Exit(
                code.parse()
                    .map_err(|_| format!("exit code `{code}` is not in 0..=255"))?,
            )
        }
        "result" => {
            let (kind, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let kind = match kind {
                "success" => ResultKind::Success,
                "error" => ResultKind::Error,
                "error-subtype" => ResultKind::ErrorSubtype,
                _ => return Err("usage: result success|error|error-subtype TEXT".to_owned()),
            };
            Directive::Result {
                kind,
                text: text.trim().to_owned(),
            }
        }
        "crash" => Directive::Crash(signal(one(&args, "crash SIGNAL")?)?),
        "wait-stdin" => none(&args, Directive::WaitStdin)?,
        "ask" => Directive::Ask(ask(rest)?),
        "bad-control" => none(&args, Directive::BadControl)?,
        "wait-message" => none(&args, Directive::WaitMessage)?,
        "wait-file" if rest.is_empty() => return Err("usage: wait-file PATH".to_owned()),
        "wait-file" => Directive::WaitFile(std::path::PathBuf::from(rest)),
        _ => return Err(format!("unknown directive `{word}`")),
    };
    Ok(directive)
}

/// `ask Bash CMD`, `ask Write PATH [CONTENT...]`, `ask Edit PATH OLD NEW`.
fn ask(rest: &str) -> Result<AskTool, String> {
    const USAGE: &str = "usage: ask Bash CMD | ask Write PATH CONTENT... | ask Edit PATH OLD NEW";
    let (tool, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let tail = tail.trim();
    match tool {
        "Bash" if !tail.is_empty() => Ok(AskTool::Bash(tail.to_owned())),
        "Write" if !tail.is_empty() => {
            let (path, content) = tail.split_once(char::is_whitespace).unwrap_or((tail, ""));
            Ok(AskTool::Write {
                path: path.to_owned(),
                content: content.trim_start().to_owned(),
            })
        }
        "Edit" => match tail.split_whitespace().collect::<Vec<_>>().as_slice() {
            [path, old, new] => Ok(AskTool::Edit {
                path: (*path).to_owned(),
                old: (*old).to_owned(),
                new: (*new).to_owned(),
            }),
            _ => Err(USAGE.to_owned()),
        },
        _ => Err(USAGE.to_owned()),
    }
}

fn one<'a>(args: &[&'a str], usage: &str) -> Result<&'a str, String> {
    match args {
        [arg] => Ok(arg),
        _ => Err(format!("usage: {usage}")),
    }
}

fn none(args: &[&str], directive: Directive) -> Result<Directive, String> {
    if args.is_empty() {
        Ok(directive)
    } else {
        Err("takes no arguments".to_owned())
    }
}

/// A count: digits, `_` allowed as a separator.
fn count(text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a count"))
}

/// A byte size: a count, optionally followed by `K` (KiB) or `M` (MiB).
fn size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(digits) => (digits, 1 << 10),
        None => match text.strip_suffix(['M', 'm']) {
            Some(digits) => (digits, 1 << 20),
            None => (text, 1),
        },
    };
    count(digits)?
        .checked_mul(unit)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A signal by name (`SEGV`, `SIGSEGV`, `segv`) or number.
fn signal(text: &str) -> Result<Signal, String> {
    let bad = || format!("unknown signal `{text}`");
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| bad())
}

#[cfg(test)]
mod tests;
