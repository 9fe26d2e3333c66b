//! Finding the agent binary and building its command line.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::{OutputFormat, TaskOptions};

/// A prompt longer than this goes to the agent on stdin: Linux limits one argument to 128 KiB
/// (`MAX_ARG_STRLEN`), and the rest of argv and the environment share the same space.
pub const MAX_PROMPT_ARG_BYTES: usize = 100 * 1024;

/// Where to look for the agent, in order. Every input is given by the caller: the core knows
/// no paths of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSearch {
    /// A path the user set (Settings, `--agent`).
    pub explicit: Option<PathBuf>,
    /// `TASKTRAY_AGENT`.
    pub env_override: Option<PathBuf>,
    /// The `PATH` to search for `claude`.
    pub path_var: Option<OsString>,
    /// The user's home, for `~/.local/bin/claude`.
    pub home: Option<PathBuf>,
    /// npm's global prefix, for `<prefix>/bin/claude` (`npm install -g` puts it there, and that
    /// folder is often missing from the `PATH` a desktop session gives the app).
    pub npm_prefix: Option<PathBuf>,
}

impl AgentSearch {
    /// The search as a process of this user would do it: `TASKTRAY_AGENT`, `PATH`, `HOME`.
    pub fn from_env(explicit: Option<PathBuf>) -> Self {
        AgentSearch {
            explicit,
            env_override: std::env::var_os("TASKTRAY_AGENT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            path_var: std::env::var_os("PATH"),
            npm_prefix: npm_prefix(std::env::var_os("HOME").map(PathBuf::from).as_deref()),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// The agent binary to run. An explicit or env path must be an executable file; otherwise
    /// `claude` on `PATH`, then `~/.local/bin/claude`.
    pub fn resolve(&self) -> Result<PathBuf> {
        if let Some(path) = self.explicit.as_ref().or(self.env_override.as_ref()) {
            return check_executable(path);
        }
        let mut searched = Vec::new();
        if let Some(path_var) = &self.path_var {
            for dir in std::env::split_paths(path_var).filter(|d| d.is_absolute()) {
                let candidate = dir.join("claude");
                if is_executable_file(&candidate) {
                    return Ok(candidate);
                }
                searched.push(dir);
            }
        }
        let local = self
            .home
            .as_ref()
            .map(|home| home.join(".local/bin/claude"));
        let npm = self
            .npm_prefix
            .as_ref()
            .map(|prefix| prefix.join("bin/claude"));
        for candidate in [local, npm].into_iter().flatten() {
            if is_executable_file(&candidate) {
                return Ok(candidate);
            }
            searched.push(candidate);
        }
        Err(Error::AgentNotFound { searched })
    }
}

/// npm's global prefix without running npm: `npm_config_prefix` / `NPM_CONFIG_PREFIX`, else the
/// `prefix=` line of `~/.npmrc`. `None` leaves npm's default (`/usr/local`, already on `PATH`).
fn npm_prefix(home: Option<&Path>) -> Option<PathBuf> {
    for var in ["npm_config_prefix", "NPM_CONFIG_PREFIX"] {
        if let Some(prefix) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(prefix));
        }
    }
    let npmrc = std::fs::read_to_string(home?.join(".npmrc")).ok()?;
    npmrc_prefix(&npmrc, home?)
}

fn npmrc_prefix(npmrc: &str, home: &Path) -> Option<PathBuf> {
    let value = npmrc.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "prefix").then(|| value.trim().trim_matches('"').to_owned())
    })?;
    Some(match value.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(value),
    })
}

fn check_executable(path: &Path) -> Result<PathBuf> {
    match std::fs::metadata(path) {
        Err(_) => Err(Error::AgentNotFound {
            searched: vec![path.to_path_buf()],
        }),
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
            Ok(path.to_path_buf())
        }
        Ok(_) => Err(Error::AgentNotExecutable {
            path: path.to_path_buf(),
        }),
    }
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Tool rules as a user writes them (`Read Grep, Bash(git log *)`): split on commas and on
/// spaces outside parentheses, so a rule keeps the spaces of its pattern.
pub fn tool_rules(text: &str) -> Vec<String> {
    let mut rules = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if (c == ',' || c.is_whitespace()) && depth == 0 {
            if !current.is_empty() {
                rules.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        rules.push(current);
    }
    rules
}

/// How the prompt reaches the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptInput {
    /// As the last argument.
    Argument,
    /// On stdin, from a file: the prompt is too long for argv, or starts with `-` and would be
    /// taken for a flag.
    Stdin,
    /// As the first user message of a two-way task, whatever its size.
    Message,
}

/// The agent's argv (without the program) and how the prompt is passed.
pub fn agent_args(prompt: &str, options: &TaskOptions) -> (Vec<OsString>, PromptInput) {
    let mut args: Vec<OsString> = vec!["-p".into()];
    if options.is_two_way() {
        // The host protocol: messages in on stdin, questions out among the events.
        args.extend(
            [
                "--input-format",
                "stream-json",
                "--permission-prompt-tool",
                "stdio",
                "--replay-user-messages",
            ]
            .map(OsString::from),
        );
    }
    args.push("--output-format".into());
    args.push(options.format.as_str().into());
    if options.format == OutputFormat::StreamJson {
        // stream-json in print mode requires --verbose.
        args.push("--verbose".into());
    }
    let allowed: Vec<&str> = options
        .allowed_tools
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if !allowed.is_empty() {
        // A list option: every rule its own argument (a rule may hold spaces), and another
        // option right after it so the list ends before the prompt.
        args.push("--allowedTools".into());
        args.extend(allowed.into_iter().map(OsString::from));
    }
    args.push("--permission-mode".into());
    args.push(options.permission_mode.as_str().into());
    if !options.keep_session {
        args.push("--no-session-persistence".into());
    }
    if let Some(model) = options.model.as_deref().filter(|m| !m.trim().is_empty()) {
        args.push("--model".into());
        args.push(model.trim().into());
    }
    if let Some(session) = &options.resume {
        args.push("--resume".into());
        args.push(session.into());
    }
    let input = if options.is_two_way() {
        PromptInput::Message
    } else if prompt.len() > MAX_PROMPT_ARG_BYTES || prompt.starts_with('-') {
        PromptInput::Stdin
    } else {
        args.push(prompt.into());
        PromptInput::Argument
    };
    (args, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter()
            .map(|a| a.into_string().unwrap_or_default())
            .collect()
    }

    #[test]
    fn builds_the_documented_two_way_command() {
        let options = TaskOptions {
            allowed_tools: vec!["Read".into(), "Bash(git *)".into(), " ".into()],
            ..TaskOptions::default()
        };
        let (args, input) = agent_args("fix the bug", &options);
        assert_eq!(
            strings(args),
            [
                "-p",
                "--input-format",
                "stream-json",
                "--permission-prompt-tool",
                "stdio",
                "--replay-user-messages",
                "--output-format",
                "stream-json",
                "--verbose",
                "--allowedTools",
                "Read",
                "Bash(git *)",
                "--permission-mode",
                "default",
                "--no-session-persistence",
            ]
        );
        assert_eq!(
            input,
            PromptInput::Message,
            "the prompt is a message, of any size"
        );
    }

    #[test]
    fn text_tasks_take_the_prompt_as_an_argument() {
        let text = TaskOptions {
            format: OutputFormat::Text,
            permission_mode: crate::PermissionMode::BypassPermissions,
            ..TaskOptions::default()
        };
        let (args, input) = agent_args("fix the bug", &text);
        assert_eq!(
            strings(args),
            [
                "-p",
                "--output-format",
                "text",
                "--permission-mode",
                "bypassPermissions",
                "--no-session-persistence",
                "fix the bug"
            ]
        );
        assert_eq!(input, PromptInput::Argument);
        let long = "x".repeat(MAX_PROMPT_ARG_BYTES + 1);
        assert_eq!(agent_args(&long, &text).1, PromptInput::Stdin);
        let (args, input) = agent_args("--help me", &text);
        assert_eq!(input, PromptInput::Stdin);
        assert!(!args.iter().any(|a| a == "--help me"));
    }

    #[test]
    fn tool_rules_keep_parenthesised_spaces() {
        assert_eq!(
            tool_rules("Read Grep,Bash(git log *)  Edit"),
            ["Read", "Grep", "Bash(git log *)", "Edit"]
        );
        assert!(tool_rules(" , ").is_empty());
    }

    #[test]
    fn search_order_and_not_found_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let search = AgentSearch {
            path_var: Some(bin.clone().into_os_string()),
            home: Some(dir.path().to_path_buf()),
            ..AgentSearch::default()
        };
        let err = search.resolve().expect_err("nothing installed");
        let message = err.to_string();
        assert!(
            message.contains("npm install -g @anthropic-ai/claude-code"),
            "{message}"
        );
        assert!(message.contains(&bin.display().to_string()), "{message}");

        let local = dir.path().join(".local/bin");
        std::fs::create_dir_all(&local).expect("mkdir");
        let claude = local.join("claude");
        std::fs::write(&claude, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(search.resolve().expect("found in ~/.local/bin"), claude);

        let prefix = dir.path().join("npm-global");
        std::fs::create_dir_all(prefix.join("bin")).expect("mkdir");
        let from_npm = prefix.join("bin/claude");
        std::fs::write(&from_npm, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&from_npm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::remove_file(&claude).expect("rm");
        let with_npm = AgentSearch {
            npm_prefix: Some(prefix),
            ..search.clone()
        };
        assert_eq!(
            with_npm.resolve().expect("found under the npm prefix"),
            from_npm
        );
        assert_eq!(
            npmrc_prefix("registry=x\nprefix = ~/.npm-global\n", Path::new("/home/u")),
            Some(PathBuf::from("/home/u/.npm-global"))
        );
        assert_eq!(
            npmrc_prefix("prefix=/opt/npm", Path::new("/h")),
            Some(PathBuf::from("/opt/npm"))
        );

        let on_path = bin.join("claude");
        std::fs::write(&on_path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&on_path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(search.resolve().expect("PATH wins"), on_path);

        let not_exec = dir.path().join("plain");
        std::fs::write(&not_exec, "x").expect("write");
        let explicit = AgentSearch {
            explicit: Some(not_exec),
            ..search
        };
        assert!(matches!(
            explicit.resolve(),
            Err(Error::AgentNotExecutable { .. })
        ));
    }
}
