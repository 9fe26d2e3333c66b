//! The print-mode command line of the real CLI, with its error messages.

/// Allowed `--permission-mode` values, as the real CLI lists them.
const PERMISSION_MODES: [&str; 5] = [
    "acceptEdits",
    "bypassPermissions",
    "default",
    "dontAsk",
    "plan",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OutputFormat {
    #[default]
    Text,
    Json,
    StreamJson,
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
        if !arg.starts_with('-') || arg == "-" {
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
            "--permission-mode" => {
                let mode = value("mode")?;
                if !PERMISSION_MODES.contains(&mode.as_str()) {
                    return Err(format!(
                        "error: option '--permission-mode <mode>' argument '{mode}' is invalid. \
                         Allowed choices are {}.",
                        PERMISSION_MODES.join(", ")
                    ));
                }
                args.permission_mode = mode;
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

pub(crate) const USAGE: &str = "\
Usage: fake-claude -p [options] [prompt]

A scripted stand-in for the Claude Code CLI (see the crate docs for the script language).

Options:
  -p, --print                     print mode (required)
  --output-format <format>        text (default), json or stream-json
  --verbose                       required by stream-json
  --permission-mode <mode>        acceptEdits, bypassPermissions, default, dontAsk, plan
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
    fn version_and_help() {
        assert_eq!(parse_strs(&["--version"]), Ok(Command::Version));
        assert_eq!(parse_strs(&["-p", "-h"]), Ok(Command::Help));
    }
}
