//! The print-mode command line of the real CLI, with its error messages.

/// The `--permission-mode` choices, as the real CLI's help and error list them.
const PERMISSION_MODES: [&str; 6] = [
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "manual",
    "dontAsk",
    "plan",
];
/// Accepted too, though the real CLI does not list it.
const DEFAULT_MODE: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OutputFormat {
    #[default]
    Text,
    Json,
    StreamJson,
}

/// `--input-format`: a prompt (argv or stdin text), or the two-way stream-json protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum InputFormat {
    #[default]
    Text,
    StreamJson,
}

impl InputFormat {
    pub(crate) fn name(self) -> &'static str {
        match self {
            InputFormat::Text => "text",
            InputFormat::StreamJson => "stream-json",
        }
    }
}

/// A parsed command line that asks for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) print: bool,
    pub(crate) prompt: Option<String>,
    pub(crate) format: OutputFormat,
    pub(crate) verbose: bool,
    pub(crate) permission_mode: String,
    pub(crate) model: Option<String>,
    pub(crate) resume: Option<String>,
    pub(crate) input_format: InputFormat,
    /// `--permission-prompt-tool`; only `stdio` asks (the host, over the two-way protocol).
    pub(crate) permission_prompt_tool: Option<String>,
    /// `--allowedTools` rules, split and in order.
    pub(crate) allowed_tools: Vec<String>,
    /// `--disallowedTools` rules, split and in order.
    pub(crate) disallowed_tools: Vec<String>,
    /// `--replay-user-messages`: echo each user message from stdin once it is taken.
    pub(crate) replay_user_messages: bool,
}

impl Args {
    /// Whether a tool that needs permission is asked of the host (`can_use_tool`).
    pub(crate) fn asks_host(&self) -> bool {
        self.input_format == InputFormat::StreamJson
            && self.permission_prompt_tool.as_deref() == Some("stdio")
    }
}

impl Default for Args {
    fn default() -> Self {
        Self {
            print: false,
            prompt: None,
            format: OutputFormat::Text,
            verbose: false,
            permission_mode: "default".to_owned(),
            model: None,
            resume: None,
            input_format: InputFormat::Text,
            permission_prompt_tool: None,
            allowed_tools: Vec::new(),
            disallowed_tools: Vec::new(),
            replay_user_messages: false,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Version,
    Help,
    Run(Args),
}

/// Parses the arguments after the program name. The error is the message for stderr.
pub(crate) fn parse(argv: &[String]) -> Result<Command, String> {
    let mut args = Args::default();
    let mut positionals = Vec::new();
    let mut iter = argv.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            positionals.extend(iter.by_ref().cloned());
            break;
        }
        if !is_option(arg) {
            positionals.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |placeholder: &str| {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("error: option '{name} <{placeholder}>' argument missing"))
        };
        match name {
            "-p" | "--print" => args.print = true,
            "--verbose" => args.verbose = true,
            "--replay-user-messages" => args.replay_user_messages = true,
            "--no-session-persistence" | "--dangerously-skip-permissions" => {}
            "-v" | "--version" => return Ok(Command::Version),
            "-h" | "--help" => return Ok(Command::Help),
            "--output-format" => {
                args.format = match value("format")?.as_str() {
                    "text" => OutputFormat::Text,
                    "json" => OutputFormat::Json,
                    "stream-json" => OutputFormat::StreamJson,
                    other => {
                        return Err(format!(
                            "error: option '--output-format <format>' argument '{other}' is \
                             invalid. Allowed choices are text, json, stream-json."
                        ))
                    }
                }
            }
            "--input-format" => {
                args.input_format = match value("format")?.as_str() {
                    "text" => InputFormat::Text,
                    "stream-json" => InputFormat::StreamJson,
                    other => {
                        return Err(format!(
                            "error: option '--input-format <format>' argument '{other}' is \
                             invalid. Allowed choices are text, stream-json."
                        ))
                    }
                }
            }
            "--permission-prompt-tool" => args.permission_prompt_tool = Some(value("tool")?),
            "--allowedTools" | "--allowed-tools" | "--disallowedTools" | "--disallowed-tools" => {
                // Variadic, as in the real CLI: every following argument up to the next option
                // (so a prompt after it is taken as a rule; put it before, or after `--`).
                let mut values = match inline.clone().or_else(|| iter.next().cloned()) {
                    Some(first) => vec![first],
                    None => {
                        return Err(format!(
                            "error: option '{name} <tools...>' argument missing"
                        ))
                    }
                };
                if inline.is_none() {
                    while let Some(next) = iter.as_slice().first().filter(|a| !is_option(a)) {
                        values.push(next.clone());
                        iter.next();
                    }
                }
                let rules = values.iter().flat_map(|v| split_rules(v));
                if name.starts_with("--allowed") {
                    args.allowed_tools.extend(rules);
                } else {
                    args.disallowed_tools.extend(rules);
                }
            }
            "--permission-mode" => {
                let mode = value("mode")?;
                if mode != DEFAULT_MODE && !PERMISSION_MODES.contains(&mode.as_str()) {
                    return Err(format!(
                        "error: option '--permission-mode <mode>' argument '{mode}' is invalid. \
                         Allowed choices are {}.",
                        PERMISSION_MODES.join(", ")
                    ));
                }
                // `manual` is the real CLI's other name for `default`, reported as `default`.
                args.permission_mode = if mode == "manual" {
                    DEFAULT_MODE.to_owned()
                } else {
                    mode
                };
            }
            "--model" => args.model = Some(value("model")?),
            "-r" | "--resume" => args.resume = Some(value("sessionId")?),
            _ => return Err(format!("error: unknown option '{arg}'")),
        }
    }
    if positionals.len() > 1 {
        return Err(format!(
            "error: too many arguments. Expected 1 argument but got {}.",
            positionals.len()
        ));
    }
    args.prompt = positionals.pop();
    Ok(Command::Run(args))
}

/// Whether an argument is an option (else a positional argument or an option's value).
fn is_option(arg: &str) -> bool {
    arg.starts_with('-') && arg != "-"
}

/// Splits a `--allowedTools` value on commas and whitespace outside parentheses:
/// `"Bash(git *),Edit Read"` gives `Bash(git *)`, `Edit`, `Read`.
pub(crate) fn split_rules(value: &str) -> Vec<String> {
    let mut rules = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && (c == ',' || c.is_whitespace()) {
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

pub(crate) const USAGE: &str = "\
Usage: fake-claude -p [options] [prompt]

A scripted stand-in for the Claude Code CLI (see the crate docs for the script language).

Options:
  -p, --print                     print mode (required)
  --output-format <format>        text (default), json or stream-json
  --verbose                       required by stream-json
  --input-format <format>         text (default) or stream-json (the two-way protocol)
  --permission-mode <mode>        acceptEdits, auto, bypassPermissions, manual, dontAsk, plan
                                  (or default)
  --permission-prompt-tool stdio  ask the host (can_use_tool) with --input-format stream-json
  --allowedTools <rules...>       allow rules, e.g. 'Bash(git *) Edit' (also --allowed-tools)
  --disallowedTools <rules...>    deny rules (also --disallowed-tools)
  --replay-user-messages          echo stdin user messages when taken (two-way mode)
  --no-session-persistence        accepted, ignored
  --dangerously-skip-permissions  accepted, ignored
  --model <model>                 reported in the output
  -r, --resume <sessionId>        reuse this session id
  -v, --version                   print the version
  -h, --help                      print this help
";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(argv: &[&str]) -> Result<Command, String> {
        let owned: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        parse(&owned)
    }

    fn run_args(argv: &[&str]) -> Args {
        match parse_strs(argv) {
            Ok(Command::Run(args)) => args,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn full_command_line() {
        let args = run_args(&[
            "-p",
            "hello world",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode=acceptEdits",
            "--no-session-persistence",
            "--model",
            "m1",
            "--resume",
            "abc",
        ]);
        assert!(args.print && args.verbose);
        assert_eq!(args.prompt.as_deref(), Some("hello world"));
        assert_eq!(args.format, OutputFormat::StreamJson);
        assert_eq!(args.permission_mode, "acceptEdits");
        assert_eq!(args.model.as_deref(), Some("m1"));
        assert_eq!(args.resume.as_deref(), Some("abc"));
    }

    #[test]
    fn defaults_and_no_prompt() {
        let args = run_args(&["--print"]);
        assert_eq!(args.prompt, None);
        assert_eq!(args.format, OutputFormat::Text);
        assert_eq!(args.permission_mode, "default");
    }

    #[test]
    fn dash_prompt_is_an_unknown_option_unless_after_double_dash() {
        assert_eq!(
            parse_strs(&["-p", "-x"]),
            Err("error: unknown option '-x'".to_owned())
        );
        assert_eq!(run_args(&["-p", "--", "-x"]).prompt.as_deref(), Some("-x"));
    }

    #[test]
    fn errors() {
        assert!(parse_strs(&["-p", "a", "b"])
            .expect_err("should fail")
            .contains("too many"));
        assert!(parse_strs(&["-p", "--model"])
            .expect_err("should fail")
            .contains("argument missing"));
        assert!(parse_strs(&["-p", "--output-format", "xml"])
            .expect_err("should fail")
            .contains("invalid"));
        assert!(parse_strs(&["-p", "--permission-mode", "yolo"])
            .expect_err("should fail")
            .contains("invalid"));
    }

    #[test]
    fn two_way_flags() {
        let args = run_args(&[
            "-p",
            "--input-format",
            "stream-json",
            "--permission-prompt-tool",
            "stdio",
            "--allowedTools",
            "Bash(git *),Edit",
            "Read",
            "--allowed-tools=Write(/src/**) Bash(npm test:*)",
            "--disallowedTools",
            "Bash(rm *)",
            "--replay-user-messages",
            "--permission-mode",
            "manual",
        ]);
        assert_eq!(args.input_format, InputFormat::StreamJson);
        assert!(args.asks_host() && args.replay_user_messages);
        assert_eq!(
            args.allowed_tools,
            [
                "Bash(git *)",
                "Edit",
                "Read",
                "Write(/src/**)",
                "Bash(npm test:*)"
            ]
        );
        assert_eq!(args.disallowed_tools, ["Bash(rm *)"]);
        assert_eq!(args.permission_mode, "default");
        // Variadic: a prompt after the rules is a rule; `--` ends them.
        let args = run_args(&["-p", "--allowedTools", "Bash", "--", "hi"]);
        assert_eq!(
            (args.allowed_tools.len(), args.prompt.as_deref()),
            (1, Some("hi"))
        );
        assert!(parse_strs(&["-p", "--input-format", "json"])
            .expect_err("should fail")
            .contains("Allowed choices are text, stream-json."));
        for mode in ["default", "auto", "dontAsk", "plan", "bypassPermissions"] {
            assert_eq!(run_args(&["--permission-mode", mode]).permission_mode, mode);
        }
    }

    #[test]
    fn version_and_help() {
        assert_eq!(parse_strs(&["--version"]), Ok(Command::Version));
        assert_eq!(parse_strs(&["-p", "-h"]), Ok(Command::Help));
    }
}
