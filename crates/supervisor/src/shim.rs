//! The per-task shim: the one process of a task that is a child of the host, and the owner of
//! the task's whole process tree (the init-process pattern of tini and containerd-shim).
//!
//! The host binary re-executes itself (or a dedicated `tasktray-shim`) with [`SHIM_ARG`] first;
//! [`run_if_invoked`], called at the top of `main`, then turns the process into the shim:
//!
//! 1. It becomes a child subreaper, so every process the agent orphans (Claude Code runs each
//!    Bash tool in its own session) is re-parented to the shim instead of init.
//! 2. It starts the agent with stdin from the host's input pipe (a two-way task: inherited on
//!    [`INPUT_FD`]), the prompt file, or `/dev/null`, and waits.
//! 3. It stops the tree on SIGTERM/SIGINT/SIGHUP, or when its own stdin (the lifeline pipe from
//!    the host) reaches EOF because the host died: SIGTERM to every descendant, the grace
//!    period, then SIGKILL to what is left, rescanning so late forks are caught too.
//! 4. When the agent exits by itself, leftovers (a daemon it started) are stopped the same way.
//! 5. It reaps everything, then exits with the agent's status (re-raising the agent's signal).
//!
//! The shim is plain synchronous code: signals arrive as bytes on self-pipes (signal-hook), and
//! those and the lifeline are `poll`ed; no runtime. Handlers, not a blocked mask + signalfd:
//! the host binary may link libraries that start a thread before `main` (the tray app does),
//! and a signal blocked only in our thread would go to that one and kill the shim.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, Pid};

use crate::model::ExitInfo;
use crate::procfs;

/// The first argument that makes a Tasktray binary run as a shim.
pub const SHIM_ARG: &str = "__tasktray_shim";

/// How often the tree is rescanned while it is being stopped.
const STOP_TICK: Duration = Duration::from_millis(5);

/// Exit code when the agent could not be executed (as a shell reports it).
const EXIT_NOT_FOUND: i32 = 127;
const EXIT_CANNOT_EXEC: i32 = 126;

/// Runs the shim and exits if this process was started as one; returns otherwise. Call it
/// first thing in `main`, before any runtime or thread is started.
pub fn run_if_invoked() {
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() != Some(OsStr::new(SHIM_ARG)) {
        return;
    }
    let code = match ShimArgs::parse(args) {
        Ok(shim) => shim.run(),
        Err(message) => {
            eprintln!("tasktray shim: {message}");
            2
        }
    };
    std::process::exit(code);
}

/// The shim's command line after [`SHIM_ARG`]: `GRACE_MS STDIN AGENT [ARGS...]`, where STDIN
/// is a file to give the agent as stdin, `-` for `/dev/null`, or [`INHERITED_INPUT_ARG`] for
/// the pipe the host passed as [`INPUT_FD`].
#[derive(Debug)]
struct ShimArgs {
    grace: Duration,
    stdin: AgentInput,
    agent: OsString,
    agent_args: Vec<OsString>,
}

/// What the agent reads on its stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgentInput {
    /// `/dev/null`: a one-way task whose prompt is an argument.
    Null,
    /// A file: a one-way task whose prompt is too long for an argument.
    File(PathBuf),
    /// The host's pipe, inherited as [`INPUT_FD`]: a two-way task. Only the host and the
    /// agent hold it, so the agent reads EOF when the host closes it (or dies).
    Pipe,
}

/// The descriptor on which the host hands a two-way task's input pipe to the shim.
pub const INPUT_FD: i32 = 3;
const INHERITED_INPUT_ARG: &str = "&3";

/// Builds the arguments that [`run_if_invoked`] parses.
pub(crate) fn shim_args(grace: Duration, stdin: &AgentInput) -> Vec<OsString> {
    vec![
        OsString::from(SHIM_ARG),
        OsString::from(grace.as_millis().to_string()),
        match stdin {
            AgentInput::Null => OsString::from("-"),
            AgentInput::File(path) => path.as_os_str().to_owned(),
            AgentInput::Pipe => OsString::from(INHERITED_INPUT_ARG),
        },
    ]
}

/// Takes ownership of the input pipe the host passed on [`INPUT_FD`], marked close-on-exec so
/// that it reaches the agent only as its stdin, never as a stray descriptor of the agent or
/// its tools.
#[allow(unsafe_code)]
fn inherited_input() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: F_GETFD only reads the descriptor's flags; it fails with EBADF when INPUT_FD is
    // not open, which is checked before anything takes ownership.
    if unsafe { nix::libc::fcntl(INPUT_FD, nix::libc::F_GETFD) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: INPUT_FD is open (checked above) and nothing else in this process owns it: the
    // host set it up for the shim, and the shim takes it once, before starting the agent.
    let fd = unsafe { OwnedFd::from_raw_fd(INPUT_FD) };
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    Ok(fd)
}

impl ShimArgs {
    fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Self, String> {
        let usage = "usage: __tasktray_shim GRACE_MS STDIN AGENT [ARGS...]";
        let grace = args
            .next()
            .and_then(|g| g.to_str()?.parse::<u64>().ok())
            .ok_or(usage)?;
        let stdin = args.next().ok_or(usage)?;
        let agent = args.next().ok_or(usage)?;
        let stdin = if stdin == "-" {
            AgentInput::Null
        } else if stdin == INHERITED_INPUT_ARG {
            AgentInput::Pipe
        } else {
            AgentInput::File(PathBuf::from(stdin))
        };
        Ok(ShimArgs {
            grace: Duration::from_millis(grace),
            stdin,
            agent,
            agent_args: args.collect(),
        })
    }

    fn run(self) -> i32 {
        let signals = match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("tasktray shim: cannot handle signals: {e}");
                return EXIT_CANNOT_EXEC;
            }
        };
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            eprintln!("tasktray shim: cannot become a subreaper: {e}");
        }

        let stdin = match &self.stdin {
            AgentInput::File(path) => File::open(path).map(Stdio::from),
            AgentInput::Null => File::open("/dev/null").map(Stdio::from),
            AgentInput::Pipe => inherited_input().map(Stdio::from),
        };
        let stdin = match stdin {
            Ok(f) => f,
            Err(e) => {
                eprintln!("tasktray: cannot open the agent's input: {e}");
                return EXIT_CANNOT_EXEC;
            }
        };
        // exec resets handled signals to their defaults, and std resets the mask and SIGPIPE,
        // so the agent starts clean.
        let agent = match Command::new(&self.agent)
            .args(&self.agent_args)
            .stdin(stdin)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                eprintln!(
                    "tasktray: cannot start the agent {}: {e}",
                    PathBuf::from(&self.agent).display()
                );
                return if e.kind() == std::io::ErrorKind::NotFound {
                    EXIT_NOT_FOUND
                } else {
                    EXIT_CANNOT_EXEC
                };
            }
        };
        // The agent is reaped with waitpid below, like every other orphan; the std handle is
        // only used for its pid.
        let agent_pid = agent.id() as i32;
        drop(agent);

        let status = Tree {
            me: std::process::id() as i32,
            agent_pid,
            grace: self.grace,
        }
        .supervise(&signals);
        exit_like(status)
    }
}

/// The signals the shim acts on, each arriving as a byte on a non-blocking socket.
struct Signals {
    /// SIGTERM, SIGINT, SIGHUP: stop the tree.
    stop: UnixStream,
    /// SIGCHLD: something may be ready to reap.
    child: UnixStream,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        let (stop, stop_tx) = UnixStream::pair()?;
        let (child, child_tx) = UnixStream::pair()?;
        for end in [&stop, &stop_tx, &child, &child_tx] {
            end.set_nonblocking(true)?;
        }
        for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
            signal_hook::low_level::pipe::register(sig as i32, stop_tx.try_clone()?)?;
        }
        signal_hook::low_level::pipe::register(Signal::SIGCHLD as i32, child_tx)?;
        Ok(Signals { stop, child })
    }

    /// Empties a socket; returns whether anything was in it.
    fn drain(mut socket: &UnixStream) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while let Ok(n) = socket.read(&mut buf) {
            if n == 0 {
                break;
            }
            any = true;
        }
        any
    }
}

/// The shim's view of the tree it owns.
struct Tree {
    me: i32,
    agent_pid: i32,
    grace: Duration,
}

/// A stop in progress: SIGTERM was sent at `since`; SIGKILL follows after the grace period.
struct Stopping {
    deadline: Instant,
    termed: Vec<i32>,
}

impl Tree {
    fn supervise(&self, signals: &Signals) -> ExitInfo {
        let lifeline = std::io::stdin();
        let mut lifeline_open = true;
        let mut agent_status = None;
        let mut stopping: Option<Stopping> = None;
        loop {
            self.reap(&mut agent_status);
            if agent_status.is_some() || stopping.is_some() {
                let left = procfs::descendants(self.me);
                if left.is_empty() && agent_status.is_some() {
                    break;
                }
                let stop = stopping.get_or_insert_with(|| self.begin_stop());
                if Instant::now() >= stop.deadline {
                    procfs::signal_all(&left, Signal::SIGKILL);
                } else {
                    // SIGTERM once to each process, including ones forked since the last scan.
                    let new: Vec<i32> = left
                        .into_iter()
                        .filter(|p| !stop.termed.contains(p))
                        .collect();
                    procfs::signal_all(&new, Signal::SIGTERM);
                    stop.termed.extend(new);
                }
            }

            let mut fds = vec![
                PollFd::new(signals.stop.as_fd(), PollFlags::POLLIN),
                PollFd::new(signals.child.as_fd(), PollFlags::POLLIN),
            ];
            if lifeline_open {
                fds.push(PollFd::new(lifeline.as_fd(), PollFlags::POLLIN));
            }
            let timeout = if stopping.is_some() {
                PollTimeout::try_from(STOP_TICK).unwrap_or(PollTimeout::ZERO)
            } else {
                PollTimeout::NONE
            };
            match poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    eprintln!("tasktray shim: poll failed: {e}");
                    stopping.get_or_insert_with(|| self.begin_stop());
                }
            }
            let lifeline_ready = fds
                .get(2)
                .and_then(PollFd::revents)
                .is_some_and(|r| !r.is_empty());
            // A SIGCHLD only wakes the loop: reaping happens at its top.
            Signals::drain(&signals.child);
            let mut stop_requested = Signals::drain(&signals.stop);
            if lifeline_ready && lifeline_open {
                let mut buf = [0u8; 64];
                match read(&lifeline, &mut buf) {
                    Ok(0) | Err(_) => {
                        lifeline_open = false;
                        stop_requested = true;
                    }
                    Ok(_) => {}
                }
            }
            if stop_requested && stopping.is_none() {
                stopping = Some(self.begin_stop());
            }
        }
        agent_status.unwrap_or(ExitInfo::Code(EXIT_CANNOT_EXEC))
    }

    fn begin_stop(&self) -> Stopping {
        Stopping {
            deadline: Instant::now() + self.grace,
            termed: Vec::new(),
        }
    }

    /// Reaps every child that has exited; notes the agent's status when it is among them.
    fn reap(&self, agent_status: &mut Option<ExitInfo>) {
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == self.agent_pid => {
                    *agent_status = Some(ExitInfo::Code(code));
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == self.agent_pid => {
                    *agent_status = Some(ExitInfo::Signal(sig as i32));
                }
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

/// Ends the shim the way the agent ended: the same exit code, or the same signal.
fn exit_like(status: ExitInfo) -> i32 {
    match status {
        ExitInfo::Code(code) => code,
        ExitInfo::Signal(sig) => {
            // No core file for the shim's own copy of the agent's crash.
            let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
            // Restores the default action and raises the signal (this ends the process); for
            // a signal whose default is to be ignored it returns, and the shell's convention
            // is used instead.
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            128 + sig
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_own_arguments() {
        let mut args = shim_args(Duration::from_millis(1500), &AgentInput::Null);
        args.extend(["claude", "-p", "hi"].map(OsString::from));
        let parsed = ShimArgs::parse(args.into_iter().skip(1)).expect("valid shim args");
        assert_eq!(parsed.grace, Duration::from_millis(1500));
        assert_eq!(parsed.stdin, AgentInput::Null);
        assert_eq!(parsed.agent, "claude");
        assert_eq!(
            parsed.agent_args,
            vec![OsString::from("-p"), OsString::from("hi")]
        );
        let mut piped = shim_args(Duration::ZERO, &AgentInput::Pipe);
        piped.push(OsString::from("claude"));
        let parsed = ShimArgs::parse(piped.into_iter().skip(1)).expect("valid shim args");
        assert_eq!(parsed.stdin, AgentInput::Pipe);
        assert!(ShimArgs::parse(["x"].map(OsString::from).into_iter()).is_err());
    }
}
