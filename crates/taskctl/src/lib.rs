//! `taskctl`: Tasktray from a terminal. `run` starts one task through the same supervisor as
//! the tray app, with its live transcript in the terminal; `list`, `show` and `logs` read the
//! history the app and `taskctl` share.
//!
//! The binary is also the task shim (see `supervisor::shim`): `main` hands over to it first.

/// Prints a line to stderr, ignoring errors: a closed stderr (`2>&-`, a reader that went
/// away) must not stop `taskctl` halfway through a task, as `eprintln!` would by panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that ends nothing when stdout is a closed pipe (`taskctl list | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;
mod cmd;
pub mod paths;
mod render;

use clap::Parser;

/// Exit codes of `taskctl run` (and of the other commands where they apply).
pub mod exit {
    pub const COMPLETED: i32 = 0;
    pub const FAILED: i32 = 1;
    /// Usage errors, and a task that could not be spawned.
    pub const USAGE: i32 = 2;
    pub const CANCELLED: i32 = 130;
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    let cli = cli::Cli::parse();
    init_logging();
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(message) => {
            say!("taskctl: {message}");
            exit::USAGE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TASKTRAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // Its default is to report a failed write with eprintln!, which panics on a closed
        // stderr.
        .log_internal_errors(false)
        .try_init();
}
