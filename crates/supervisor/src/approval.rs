//! Approvals: the agent asks before a tool that needs permission, and the user answers.
//!
//! A two-way task's agent sends a `can_use_tool` request and waits. The runner turns it into an
//! [`Approval`], which every host can list and answer ([`crate::Supervisor::answer`]) with a
//! [`Decision`]. "Allow always" keeps the request's own suggested rules ([`AllowRules`]) for the
//! rest of the task, so a later request that matches is answered by Tasktray without asking.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::TaskId;

/// A question from a task's agent that waits for the user.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub task: TaskId,
    /// The agent's id of the request; answers name it.
    pub request_id: String,
    /// The tool the agent wants to use, e.g. `Bash`, `Write`, `Edit`.
    pub tool: String,
    /// The tool's whole input: the command, or the file and its new content.
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub input: Value,
    /// The agent's own words on what the call does, when it gave them.
    #[serde(default)]
    pub description: Option<String>,
    /// The rules the agent suggests for allowing such calls from now on (`addRules`,
    /// `addDirectories`), as it sent them.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "Array<unknown>"))]
    pub suggestions: Vec<Value>,
    /// The path the call would touch that made the agent ask, when it names one (for a Bash
    /// command, the file a redirect writes, inside the project or not).
    #[serde(default)]
    pub blocked_path: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub requested_at_ms: u64,
    /// When the request is denied unanswered; `None` waits as long as the task runs.
    #[serde(default)]
    pub expires_at_ms: Option<u64>,
}

impl Approval {
    /// A one-line account of what is asked: the command, or the file touched.
    pub fn summary(&self) -> String {
        tool_subject(&self.tool, &self.input)
            .map(|s| crate::text::shorten(&s, 200))
            .or_else(|| self.description.clone())
            .unwrap_or_else(|| self.tool.clone())
    }
}

/// The user's answer to an [`Approval`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "camelCase")]
pub enum Decision {
    /// Run the tool this once.
    Allow,
    /// Run it, and allow what matches the request's suggested rules for the rest of the task.
    AllowAlways,
    /// Do not run it; the agent gets `message` (or a default) and goes on.
    Deny {
        #[serde(default)]
        message: Option<String>,
    },
}

/// How an approval ended.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ApprovalOutcome {
    Allowed,
    AllowedAlways,
    /// Answered by Tasktray: an earlier "allow always" rule of the task matched.
    AllowedByRule,
    Denied,
    /// Nobody answered within the timeout; denied.
    TimedOut,
    /// The task ended or its turn was stopped before an answer.
    Withdrawn,
}

impl ApprovalOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalOutcome::Allowed => "allowed",
            ApprovalOutcome::AllowedAlways => "allowed for the rest of the task",
            ApprovalOutcome::AllowedByRule => "allowed by an earlier \"always\"",
            ApprovalOutcome::Denied => "denied",
            ApprovalOutcome::TimedOut => "denied: no answer in time",
            ApprovalOutcome::Withdrawn => "withdrawn",
        }
    }
}

/// The message the agent gets when the user denies without one.
pub const DEFAULT_DENY_MESSAGE: &str = "The user denied this tool call.";

/// The thing a tool call acts on, for summaries and rule matching: a Bash command, a file
/// path, a URL or a search pattern.
pub fn tool_subject(tool: &str, input: &Value) -> Option<String> {
    let field = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_owned);
    match tool {
        "Bash" => field("command"),
        _ => ["file_path", "notebook_path", "path", "url", "pattern"]
            .into_iter()
            .find_map(field),
    }
}

/// The tools that edit files: what the agent's `acceptEdits` mode lets through.
const EDIT_TOOLS: [&str; 4] = ["Write", "Edit", "MultiEdit", "NotebookEdit"];

/// The rules a task's "allow always" answers added: each request that matches one is
/// answered by Tasktray at once. A rule never reaches past the folders the task may touch:
/// the project and the folders an answer added.
#[derive(Debug, Clone)]
pub(crate) struct AllowRules {
    rules: Vec<Rule>,
    folders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    tool: String,
    /// A pattern on what the tool acts on (`echo made *`, `/src/**`); any when `None`.
    content: Option<String>,
}

impl AllowRules {
    pub(crate) fn new(project: &Path) -> Self {
        AllowRules {
            rules: Vec::new(),
            folders: vec![project.to_string_lossy().into_owned()],
        }
    }

    /// Keeps the rules an approval suggested (Claude Code suggests a rule for Bash commands
    /// and the `acceptEdits` mode for file edits); without a usable one, the tool itself.
    pub(crate) fn add_from(&mut self, approval: &Approval) {
        let before = self.rules.len();
        for suggestion in &approval.suggestions {
            let field = |key: &str| suggestion.get(key).and_then(Value::as_str);
            let strings = |key: &str| {
                suggestion
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<Value>>()
            };
            match field("type") {
                Some("addRules") if field("behavior").is_none_or(|b| b == "allow") => {
                    for rule in strings("rules") {
                        if let Some(tool) = rule.get("toolName").and_then(Value::as_str) {
                            self.rules.push(Rule {
                                tool: tool.to_owned(),
                                content: rule
                                    .get("ruleContent")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                            });
                        }
                    }
                }
                Some("setMode") if field("mode") == Some("acceptEdits") => {
                    self.rules.extend(EDIT_TOOLS.map(|tool| Rule {
                        tool: tool.to_owned(),
                        content: None,
                    }));
                }
                Some("addDirectories") => {
                    let dirs = strings("directories");
                    self.folders
                        .extend(dirs.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                _ => {}
            }
        }
        if self.rules.len() == before {
            self.rules.push(Rule {
                tool: approval.tool.clone(),
                content: None,
            });
        }
    }

    /// Whether a request is covered: a rule matches its tool and what it acts on, and the
    /// path it touches (the blocked path, or the file of a file tool) lies in an allowed folder.
    pub(crate) fn allows(&self, approval: &Approval) -> bool {
        let subject = tool_subject(&approval.tool, &approval.input);
        let tool_ok = self.rules.iter().any(|rule| {
            rule.tool == approval.tool
                && rule.content.as_deref().is_none_or(|pattern| {
                    subject.as_deref().is_some_and(|s| rule_matches(pattern, s))
                })
        });
        let touched = approval.blocked_path.clone().or_else(|| {
            EDIT_TOOLS
                .contains(&approval.tool.as_str())
                .then_some(subject)
                .flatten()
        });
        let path_ok = touched.is_none_or(|path| {
            self.folders
                .iter()
                .any(|folder| Path::new(&path).starts_with(folder))
        });
        tool_ok && path_ok
    }
}

/// Claude Code's rule content: `*` matches any text (`**` too, across folders), and a
/// trailing `:*` is the older spelling of a prefix rule (`git log:*`).
fn rule_matches(pattern: &str, subject: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix(":*") {
        return subject.starts_with(prefix);
    }
    if let Some(domain) = pattern.strip_prefix("domain:") {
        return url_host(subject).is_some_and(|host| host == domain);
    }
    wildcard(pattern.as_bytes(), subject.as_bytes())
}

fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    host.rsplit_once('@')
        .map_or(host, |(_, h)| h)
        .split(':')
        .next()
}

/// Glob match with `*` for any run of bytes (greedy with backtracking, linear in practice).
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn approval(tool: &str, input: Value, suggestions: Value, blocked: Option<&str>) -> Approval {
        Approval {
            task: TaskId(1),
            request_id: "r".into(),
            tool: tool.into(),
            input,
            description: None,
            suggestions: suggestions.as_array().cloned().unwrap_or_default(),
            blocked_path: blocked.map(str::to_owned),
            requested_at_ms: 0,
            expires_at_ms: None,
        }
    }

    #[test]
    fn wildcards_and_prefix_rules() {
        assert!(rule_matches("echo made *", "echo made > made.txt"));
        assert!(!rule_matches("echo made *", "rm -rf /"));
        assert!(rule_matches("git log:*", "git log --oneline"));
        assert!(rule_matches("/src/**", "/src/a/b.rs"));
        assert!(rule_matches("exact", "exact"));
        assert!(!rule_matches("exact", "exactly"));
        assert!(rule_matches("domain:example.com", "https://example.com/x"));
        assert!(!rule_matches(
            "domain:example.com",
            "https://evil.com/example.com"
        ));
        assert!(wildcard(b"*a*b*", b"xxaxxbxx"));
        assert!(!wildcard(b"*a*b", b"xxaxxbxxc"));
    }

    #[test]
    fn always_uses_the_suggested_rule() {
        // The shape Claude Code 2.1.332 sends for `echo made > made.txt` in the project.
        let first = approval(
            "Bash",
            json!({"command": "echo made > made.txt"}),
            json!([
                {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "echo made *"}],
                 "behavior": "allow", "destination": "localSettings"},
                {"type": "addDirectories", "directories": ["/p"], "destination": "session"}
            ]),
            Some("/p/made.txt"),
        );
        let mut rules = AllowRules::new(Path::new("/p"));
        assert!(!rules.allows(&first));
        rules.add_from(&first);
        assert!(rules.allows(&first));
        let again = approval(
            "Bash",
            json!({"command": "echo made > other.txt"}),
            json!([]),
            Some("/p/other.txt"),
        );
        assert!(rules.allows(&again));
        let outside = approval(
            "Bash",
            json!({"command": "echo made > /etc/x"}),
            json!([]),
            Some("/etc/x"),
        );
        assert!(!rules.allows(&outside), "a blocked path outside /p");
        let other = approval("Bash", json!({"command": "rm x"}), json!([]), None);
        assert!(!rules.allows(&other));
        let write = approval("Write", json!({"file_path": "/p/a"}), json!([]), None);
        assert!(!rules.allows(&write));
    }

    #[test]
    fn always_for_an_edit_accepts_edits_in_the_project() {
        // Claude Code suggests the acceptEdits mode for file tools, never a rule.
        let first = approval(
            "Write",
            json!({"file_path": "/p/a", "content": "x"}),
            json!([{"type": "setMode", "mode": "acceptEdits", "destination": "session"}]),
            None,
        );
        let mut rules = AllowRules::new(Path::new("/p"));
        rules.add_from(&first);
        let edit = |path: &str| {
            approval(
                "Edit",
                json!({"file_path": path, "old_string": "a", "new_string": "b"}),
                json!([]),
                None,
            )
        };
        assert!(rules.allows(&edit("/p/sub/b")));
        assert!(!rules.allows(&edit("/etc/passwd")), "outside the project");
        assert!(!rules.allows(&approval("Bash", json!({"command": "ls"}), json!([]), None)));
    }

    #[test]
    fn always_without_suggestions_allows_the_tool_in_the_project() {
        let first = approval(
            "WebFetch",
            json!({"url": "https://a.example/x"}),
            json!([]),
            None,
        );
        let mut rules = AllowRules::new(Path::new("/p"));
        rules.add_from(&first);
        assert!(rules.allows(&approval(
            "WebFetch",
            json!({"url": "https://b.example/"}),
            json!([]),
            None
        )));
        assert!(!rules.allows(&approval(
            "Write",
            json!({"file_path": "/p/a"}),
            json!([]),
            None
        )));
    }

    #[test]
    fn decisions_read_as_the_hosts_send_them() {
        let deny: Decision =
            serde_json::from_value(json!({"decision": "deny", "message": "no"})).expect("deny");
        assert_eq!(
            deny,
            Decision::Deny {
                message: Some("no".into())
            }
        );
        let always: Decision =
            serde_json::from_value(json!({"decision": "allowAlways"})).expect("always");
        assert_eq!(always, Decision::AllowAlways);
    }
}
