//! A run from start to end: the command line, the prompt, the record, then the session.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::args::{self, Command, InputFormat, OutputFormat};
use crate::emit::{Session, VERSION};
use crate::inbox::Inbox;
use crate::permissions::Policy;
use crate::player::Agent;
use crate::record::{self, Start};
use crate::{converse, signals, stdin};

const NO_INPUT: &str = "Error: Input must be provided either through stdin or as a prompt \
                        argument when using --print";
const STREAM_JSON_NEEDS_VERBOSE: &str =
    "Error: When using --print, --output-format=stream-json requires --verbose";
const PRINT_ONLY: &str = "Error: fake-claude only supports print mode (-p/--print)";
const STREAM_INPUT_NEEDS_STREAM_OUTPUT: &str =
    "Error: --input-format=stream-json requires output-format=stream-json.";
const REPLAY_NEEDS_STREAMS: &str = "Error: --replay-user-messages requires both \
                                    --input-format=stream-json and --output-format=stream-json.";
const PROMPT_WITH_STREAM_INPUT: &str = "Error: fake-claude takes no prompt argument with \
                                        --input-format=stream-json: send it on stdin";
/// What Claude Code 2.1.332 prints (on stderr, exit 1, no result line) when run as root with
/// bypassPermissions unless `IS_SANDBOX=1` is set.
const ROOT_BYPASS: &str =
    "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";

/// Runs fake-claude with its full argv (program name first).
pub(crate) fn main(argv: &[String]) -> ExitCode {
    let cwd = std::env::current_dir()
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut start = Start {
        argv,
        prompt: None,
        prompt_from_stdin: false,
        cwd: &cwd,
        args: None,
    };
    let args = match args::parse(argv.get(1..).unwrap_or_default()) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Version) => {
            record::write(&start);
            return print_stdout(&format!("{VERSION} (Claude Code)\n"));
        }
        Ok(Command::Help) => {
            record::write(&start);
            return print_stdout(args::USAGE);
        }
        Err(message) => {
            record::write(&start);
            return fail(&message);
        }
    };

    let two_way = args.input_format == InputFormat::StreamJson;
    start.args = Some(&args);
    // The prompt argument, else all of stdin (unless it is a terminal, or carries the two-way
    // protocol).
    let stdin_prompt = match args.prompt {
        Some(_) => None,
        None if two_way => None,
        None => read_stdin_prompt(),
    };
    start.prompt_from_stdin = stdin_prompt.is_some();
    let prompt = args.prompt.clone().or(stdin_prompt);
    start.prompt = prompt.as_deref();
    record::write(&start);

    if !args.print {
        return fail(PRINT_ONLY);
    }
    if args.format == OutputFormat::StreamJson && !args.verbose {
        return fail(STREAM_JSON_NEEDS_VERBOSE);
    }
    let stream_output = args.format == OutputFormat::StreamJson;
    if two_way && !stream_output {
        return fail(STREAM_INPUT_NEEDS_STREAM_OUTPUT);
    }
    if args.replay_user_messages && !(two_way && stream_output) {
        return fail(REPLAY_NEEDS_STREAMS);
    }
    let bypass = args.permission_mode == "bypassPermissions";
    if bypass
        && nix::unistd::geteuid().is_root()
        && std::env::var_os("IS_SANDBOX").is_none_or(|v| v != "1")
    {
        return fail(ROOT_BYPASS);
    }
    let prompt = match prompt.filter(|p| !p.trim().is_empty()) {
        Some(_) if two_way => return fail(PROMPT_WITH_STREAM_INPUT),
        Some(prompt) => Some(prompt),
        None if two_way => None,
        None => return fail(NO_INPUT),
    };

    // Before any thread starts, so that every thread inherits the mask.
    if let Err(err) = signals::block() {
        let _ = writeln!(io::stderr(), "fake-claude: cannot block signals: {err}");
    }
    let session = Arc::new(Session::new(&args, cwd.clone()));
    if let Err(err) = signals::spawn_watcher(Arc::clone(&session)) {
        let _ = writeln!(io::stderr(), "fake-claude: no signal thread: {err}");
    }
    let inbox = Arc::new(Inbox::default());
    let policy = Policy::new(&args, Path::new(&cwd));
    let agent = Agent {
        session: &session,
        inbox: &inbox,
        args: &args,
        policy: &policy,
    };
    match prompt {
        Some(prompt) => agent.play(&prompt),
        None => {
            if let Err(err) = stdin::spawn(Arc::clone(&inbox), Arc::clone(&session)) {
                return fail(&format!("fake-claude: no stdin thread: {err}"));
            }
            converse::converse(&agent)
        }
    }
}

/// All of stdin as the prompt, or `None` if stdin is a terminal or cannot be read.
fn read_stdin_prompt() -> Option<String> {
    let mut stdin = io::stdin().lock();
    if stdin.is_terminal() {
        return None;
    }
    let mut bytes = Vec::new();
    stdin.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn print_stdout(text: &str) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// A usage error: the message on stderr, exit 1.
fn fail(message: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "{message}");
    ExitCode::FAILURE
}
