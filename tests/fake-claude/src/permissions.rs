//! Whether a tool call may run: the permission mode, the rules, and what to ask or say.
//!
//! The order is Claude Code's: a deny rule refuses; `bypassPermissions` allows; an allow rule
//! allows (a Bash rule with a specifier does not cover a command that redirects output to a
//! file, whose target is checked on its own; bare `Bash` does); read-only Bash commands run in
//! every mode; `acceptEdits` and `auto` allow Write/Edit, `mkdir`/`touch`/`mv`/`cp` and output
//! redirection inside the cwd; then `dontAsk` refuses, `auto` and `plan` refuse (their classifier
//! is unavailable, as in the real CLI without Anthropic's server), and `default` asks.

use std::path::{Component, Path, PathBuf};

use crate::args::Args;
use crate::emit::Decided;
use crate::json::Obj;
use crate::protocol::Question;
use crate::rules::{self, Rule};

/// Bash commands that only read, so never need permission (`git` only with the subcommands in
/// [`READ_ONLY_GIT`]).
const READ_ONLY: [&str; 26] = [
    "basename", "cat", "cd", "date", "df", "diff", "dirname", "du", "echo", "false", "file",
    "grep", "head", "id", "ls", "printf", "pwd", "readlink", "realpath", "rg", "stat", "tail",
    "true", "uname", "wc", "whoami",
];
const READ_ONLY_GIT: [&str; 4] = ["diff", "log", "show", "status"];
/// Bash commands `acceptEdits` runs without asking when they stay inside the cwd.
const FILE_COMMANDS: [&str; 4] = ["cp", "mkdir", "mv", "touch"];

/// A tool call, as far as permissions care.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call<'a> {
    Bash(&'a str),
    /// `Write` or `Edit` on an absolute, normalised path.
    File {
        tool: &'a str,
        path: &'a Path,
    },
}

impl Call<'_> {
    pub(crate) fn tool(&self) -> &str {
        match self {
            Call::Bash(_) => "Bash",
            Call::File { tool, .. } => tool,
        }
    }
}

/// What the policy says about a call before anyone is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow(Decided),
    Deny(String, Decided),
    Ask,
}

/// The permission mode and rules of a run.
#[derive(Debug)]
pub(crate) struct Policy {
    mode: String,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    cwd: PathBuf,
    home: Option<PathBuf>,
}

impl Policy {
    pub(crate) fn new(args: &Args, cwd: &Path) -> Self {
        Self {
            mode: args.permission_mode.clone(),
            allow: rules::parse_all(&args.allowed_tools),
            deny: rules::parse_all(&args.disallowed_tools),
            cwd: cwd.to_path_buf(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// An absolute, lexically normalised path: `path` relative to the cwd.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        normalize(&self.cwd.join(path))
    }

    fn inside(&self, path: &Path) -> bool {
        path.starts_with(&self.cwd)
    }

    pub(crate) fn decide(&self, call: Call<'_>) -> Verdict {
        let home = self.home.as_deref();
        let (denied, allowed) = match call {
            Call::Bash(command) => (
                rules::deny_command(&self.deny, command),
                if self.redirect(command).is_some() {
                    rules::allow_all_bash(&self.allow)
                } else {
                    rules::allow_command(&self.allow, command)
                },
            ),
            Call::File { tool, path } => (
                rules::match_file(&self.deny, tool, path, &self.cwd, home),
                rules::match_file(&self.allow, tool, path, &self.cwd, home),
            ),
        };
        if denied {
            let message = match call {
                Call::Bash(command) => {
                    format!("Permission to use Bash with command {command} has been denied.")
                }
                Call::File { tool, .. } => format!("Permission to use {tool} has been denied."),
            };
            return Verdict::Deny(message, Decided::DENY_RULE);
        }
        if self.mode == "bypassPermissions" {
            return Verdict::Allow(Decided::MODE);
        }
        if allowed {
            return Verdict::Allow(Decided::RULE);
        }
        let edits = matches!(self.mode.as_str(), "acceptEdits" | "auto");
        let by_mode = if self.mode == "auto" {
            Decided::MODE
        } else {
            Decided::SUBCOMMANDS
        };
        match call {
            Call::Bash(command) if self.read_only(command) => {
                return Verdict::Allow(Decided::SUBCOMMANDS)
            }
            Call::Bash(command) if edits && self.file_command_inside(command) => {
                return Verdict::Allow(by_mode)
            }
            Call::File { path, .. } if edits && self.inside(path) => {
                return Verdict::Allow(Decided::MODE)
            }
            _ => {}
        }
        let tool = call.tool();
        match self.mode.as_str() {
            "dontAsk" => Verdict::Deny(dont_ask(tool), Decided::MODE_DENIED),
            "auto" | "plan" => Verdict::Deny(
                format!(
                    "Auto mode is unavailable: its safety check does not run for this session, \
                     so {tool} was not run. Other actions that need the check will be denied \
                     too, and retrying won't help. Finish what you can without them, then tell \
                     the user what is blocked and that they can switch to another permission \
                     mode."
                ),
                Decided::CLASSIFIER,
            ),
            _ => Verdict::Ask,
        }
    }

    fn read_only(&self, command: &str) -> bool {
        !command.contains("$(")
            && !command.contains('`')
            && self.redirect(command).is_none()
            && rules::simple_commands(command).iter().all(|part| {
                let words: Vec<&str> = part.split_whitespace().collect();
                match words.as_slice() {
                    ["git", sub, ..] => READ_ONLY_GIT.contains(sub),
                    [first, ..] => READ_ONLY.contains(first),
                    [] => true,
                }
            })
    }

    fn file_command_inside(&self, command: &str) -> bool {
        !command.contains("$(")
            && !command.contains('`')
            && self
                .redirect(command)
                .is_none_or(|target| self.inside(&target))
            && rules::simple_commands(command).iter().all(|part| {
                let mut words = part.split_whitespace();
                let first = words.next().unwrap_or_default();
                (FILE_COMMANDS.contains(&first) || READ_ONLY.contains(&first))
                    && words.all(|w| {
                        w.starts_with('-') || w.starts_with('>') || {
                            self.inside(&self.resolve(w))
                        }
                    })
            })
    }

    /// The file a command writes by output redirection (`>`, `>>`; not `>&2`, not
    /// `/dev/null`), absolute.
    fn redirect(&self, command: &str) -> Option<PathBuf> {
        let mut quote = None;
        for (i, c) in command.char_indices() {
            match (quote, c) {
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '>') => {
                    let rest = command[i + 1..].trim_start_matches('>');
                    if rest.starts_with('&') {
                        continue;
                    }
                    let target: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| !c.is_whitespace() && !";&|<>".contains(*c))
                        .collect();
                    let target = target.trim_matches(['\'', '"']);
                    if !target.is_empty() && target != "/dev/null" {
                        return Some(self.resolve(target));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The `can_use_tool` details the real CLI sends for `call`.
    pub(crate) fn question(&self, call: Call<'_>, description: &str) -> Question {
        let add_dir = |dir: &Path| {
            Obj::new()
                .field("type", "addDirectories")
                .field("directories", vec![dir.to_string_lossy().into_owned()])
                .field("destination", "session")
        };
        match call {
            Call::Bash(command) => {
                let rule = Obj::new()
                    .field("toolName", "Bash")
                    .field("ruleContent", prefix_rule(command));
                let mut suggestions = vec![Obj::new()
                    .field("type", "addRules")
                    .raw("rules", &crate::json::array(vec![rule]))
                    .field("behavior", "allow")
                    .field("destination", "localSettings")];
                let blocked = self.redirect(command);
                if let Some(dir) = blocked.as_deref().and_then(Path::parent) {
                    suggestions.push(add_dir(dir));
                }
                Question {
                    description: description.to_owned(),
                    suggestions,
                    blocked_path: blocked.map(|p| p.to_string_lossy().into_owned()),
                    reason: None,
                }
            }
            Call::File { path, .. } => {
                let mut suggestions = vec![Obj::new()
                    .field("type", "setMode")
                    .field("mode", "acceptEdits")
                    .field("destination", "session")];
                let inside = self.inside(path);
                let description = match path.strip_prefix(&self.cwd) {
                    Ok(rel) if inside => rel.to_string_lossy().into_owned(),
                    _ => path.to_string_lossy().into_owned(),
                };
                let mut reason = None;
                if !inside {
                    if let Some(dir) = path.parent() {
                        suggestions.push(add_dir(dir));
                    }
                    reason = Some((
                        "Path is outside allowed working directories".to_owned(),
                        "workingDir".to_owned(),
                    ));
                }
                Question {
                    description,
                    suggestions,
                    blocked_path: None,
                    reason,
                }
            }
        }
    }

    /// Why a call that needs a question is refused when nobody can be asked (one-way mode, or
    /// no `--permission-prompt-tool stdio`).
    pub(crate) fn nobody_to_ask(&self, call: Call<'_>) -> String {
        let cwd = self.cwd.to_string_lossy();
        match call {
            Call::Bash(command) => match self.redirect(command) {
                Some(target) if self.inside(&target) => format!(
                    "Output redirection to '{}' needs approval. The path is inside the working \
                     directories for this session ('{cwd}'), and Claude Code asks before a shell \
                     command creates, changes or removes files there.",
                    target.display()
                ),
                Some(target) => format!(
                    "Output redirection to '{}' needs approval. The path is outside the working \
                     directories for this session ('{cwd}').",
                    target.display()
                ),
                None => "This command needs approval. Claude requested permissions to use Bash, \
                         but you haven't granted it yet."
                    .to_owned(),
            },
            Call::File { tool, path } => {
                let verb = if tool == "Edit" { "edit" } else { "write to" };
                format!(
                    "Claude requested permissions to {verb} {}, but you haven't granted it yet.",
                    path.display()
                )
            }
        }
    }
}

/// The `dontAsk` refusal, in the real CLI's words.
fn dont_ask(tool: &str) -> String {
    format!(
        "Permission to use {tool} has been denied because Claude Code is running in don't ask \
         mode. IMPORTANT: You *may* attempt to accomplish this action using other tools that \
         might naturally be used to accomplish this goal, e.g. using head instead of cat. But \
         you *should not* attempt to work around this denial in malicious ways, e.g. do not use \
         your ability to run tests to execute non-test actions. You should only try to work \
         around this restriction in reasonable ways that do not attempt to bypass the intent \
         behind this denial. If you believe this capability is essential to complete the \
         user's request, STOP and explain to the user what you were trying to do and why you \
         need this permission. Let the user decide how to proceed."
    )
}

/// The suggested allow rule of a command: its first two words (fewer if an option, a
/// redirection or an operator comes first) and ` *`; `echo made > f` gives `echo made *`.
fn prefix_rule(command: &str) -> String {
    let first = rules::simple_commands(command)
        .into_iter()
        .next()
        .unwrap_or_default();
    let words: Vec<&str> = first
        .split_whitespace()
        .take_while(|w| !w.starts_with('-') && !w.contains(['>', '<', '&', '|']))
        .take(2)
        .collect();
    format!("{} *", words.join(" "))
}

/// `path` without `.` and `..` components (lexically; `..` at the root stays at the root).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;
