//! Permission rules (`--allowedTools`, `--disallowedTools`) and how a tool call matches them,
//! after Claude Code's rules:
//! - `Tool` (or `Tool(*)`) matches every call of the tool.
//! - Bash: `Bash(git *)` is a wildcard pattern (`*` matches anything; a trailing ` *` also
//!   matches the bare `git`), `Bash(npm test:*)` the legacy prefix form, anything else the exact
//!   command. A compound command (`a && b`, `a; b`, `a | b`, `a || b`) is allowed only when every
//!   part is; it is denied when any part is.
//! - Files: `Edit(PATTERN)` covers Write and Edit, `Write(PATTERN)` covers Write. `PATTERN` is
//!   gitignore-like: `//abs/path`, `~/in/home`, `/from/the/cwd` (the settings root of command-line
//!   rules), `./rel` or `rel/x` from the cwd, a bare `name` at any depth under the cwd; `**`
//!   matches across directories, `*` and `?` within one.

use std::path::Path;

/// One rule: a tool name and an optional specifier (the part in parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) tool: String,
    pub(crate) specifier: Option<String>,
}

impl Rule {
    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim();
        if let Some((tool, rest)) = text.split_once('(') {
            if let Some(spec) = rest.strip_suffix(')') {
                let spec = spec.trim();
                return Self {
                    tool: tool.trim().to_owned(),
                    specifier: (!spec.is_empty() && spec != "*").then(|| spec.to_owned()),
                };
            }
        }
        Self {
            tool: text.to_owned(),
            specifier: None,
        }
    }

    /// Whether this rule matches one simple Bash command.
    fn matches_command(&self, command: &str) -> bool {
        if self.tool != "Bash" {
            return false;
        }
        let Some(spec) = &self.specifier else {
            return true;
        };
        if let Some(prefix) = spec.strip_suffix(":*") {
            return command == prefix || command.starts_with(&format!("{prefix} "));
        }
        if let Some(bare) = spec.strip_suffix(" *") {
            if command == bare {
                return true;
            }
        }
        if spec.contains('*') {
            return glob(spec.as_bytes(), command.as_bytes(), false);
        }
        command == spec
    }

    /// Whether this rule matches a `tool` (Write or Edit) call on the absolute `path`.
    fn matches_file(&self, tool: &str, path: &Path, cwd: &Path, home: Option<&Path>) -> bool {
        let covers = self.tool == tool || (self.tool == "Edit" && tool == "Write");
        if !covers {
            return false;
        }
        let Some(spec) = &self.specifier else {
            return true;
        };
        let Some(pattern) = absolute_pattern(spec, cwd, home) else {
            return false;
        };
        glob(pattern.as_bytes(), path.to_string_lossy().as_bytes(), true)
    }
}

/// Parses rule texts.
pub(crate) fn parse_all(texts: &[String]) -> Vec<Rule> {
    texts.iter().map(|t| Rule::parse(t)).collect()
}

/// Whether a rule allows every Bash command (`Bash`, `Bash(*)`).
pub(crate) fn allow_all_bash(rules: &[Rule]) -> bool {
    rules
        .iter()
        .any(|r| r.tool == "Bash" && r.specifier.is_none())
}

/// Whether the rules allow all of `command` (every part of a compound command).
pub(crate) fn allow_command(rules: &[Rule], command: &str) -> bool {
    if allow_all_bash(rules) {
        return true;
    }
    let parts = simple_commands(command);
    !parts.is_empty()
        && parts
            .iter()
            .all(|part| rules.iter().any(|r| r.matches_command(part)))
}

/// Whether the rules deny any of `command`.
pub(crate) fn deny_command(rules: &[Rule], command: &str) -> bool {
    rules
        .iter()
        .any(|r| r.tool == "Bash" && r.specifier.is_none())
        || simple_commands(command)
            .iter()
            .any(|part| rules.iter().any(|r| r.matches_command(part)))
}

/// Whether any rule matches a file tool call.
pub(crate) fn match_file(
    rules: &[Rule],
    tool: &str,
    path: &Path,
    cwd: &Path,
    home: Option<&Path>,
) -> bool {
    rules.iter().any(|r| r.matches_file(tool, path, cwd, home))
}

/// The simple commands of a compound command, split at `&&`, `||`, `;`, `|` and newlines (not
/// inside quotes), trimmed, empty ones dropped.
pub(crate) fn simple_commands(command: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quote = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ';' | '\n') => {
                parts.push(String::new());
                continue;
            }
            (None, '&' | '|') if chars.peek() == Some(&c) => {
                chars.next();
                parts.push(String::new());
                continue;
            }
            (None, '|') => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// A file rule's pattern as an absolute glob; `None` for `~/` without a home.
fn absolute_pattern(spec: &str, cwd: &Path, home: Option<&Path>) -> Option<String> {
    let cwd = cwd.to_string_lossy();
    let cwd = cwd.trim_end_matches('/');
    Some(if let Some(abs) = spec.strip_prefix("//") {
        format!("/{abs}")
    } else if let Some(rest) = spec.strip_prefix("~/") {
        format!("{}/{rest}", home?.to_string_lossy().trim_end_matches('/'))
    } else if let Some(rest) = spec.strip_prefix('/').or_else(|| spec.strip_prefix("./")) {
        format!("{cwd}/{rest}")
    } else if spec.contains('/') {
        format!("{cwd}/{spec}")
    } else {
        format!("{cwd}/**/{spec}")
    })
}

/// Glob matching: `*` any run of bytes (not `/` when `paths`), `**` any run (a `**/` may also
/// match nothing), `?` one byte (not `/` when `paths`).
fn glob(pattern: &[u8], text: &[u8], paths: bool) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', b'/', rest @ ..] if paths => {
            glob(rest, text, paths)
                || (0..text.len()).any(|i| text[i] == b'/' && glob(rest, &text[i + 1..], paths))
        }
        [b'*', b'*', rest @ ..] if paths => (0..=text.len()).any(|i| glob(rest, &text[i..], paths)),
        [b'*', rest @ ..] => (0..=text.len())
            .take_while(|&i| i == 0 || !paths || text[i - 1] != b'/')
            .any(|i| glob(rest, &text[i..], paths)),
        [b'?', rest @ ..] => {
            matches!(text, [c, ..] if !paths || *c != b'/') && glob(rest, &text[1..], paths)
        }
        [p, rest @ ..] => matches!(text, [c, ..] if c == p) && glob(rest, &text[1..], paths),
    }
}

#[cfg(test)]
mod tests;
