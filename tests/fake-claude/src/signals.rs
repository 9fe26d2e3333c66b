//! SIGINT and SIGTERM, without signal handlers (and so without `unsafe`).
//!
//! Both signals are blocked in the main thread before any other thread starts (threads inherit
//! the mask), and one thread takes them with `sigwait`:
//! - SIGINT writes the abort result and exits 0, like the real CLI.
//! - SIGTERM, unless trapped, is unblocked in that thread and raised again: the default action
//!   kills the process, so the exit status says "killed by SIGTERM". Once `trap-term` ran, it is
//!   dropped.
//!
//! Children inherit the mask (`std::process::Command::spawn` keeps it), so every child is this
//! binary in an internal mode that clears it first (see `procs`).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{raise, SigSet, Signal};

use crate::emit::Session;

/// Set by `trap-term`: SIGTERM is ignored from then on.
static TRAP_TERM: AtomicBool = AtomicBool::new(false);

fn handled() -> SigSet {
    [Signal::SIGINT, Signal::SIGTERM].into_iter().collect()
}

/// Blocks SIGINT and SIGTERM in the calling thread; call it before starting any thread.
pub(crate) fn block() -> io::Result<()> {
    handled().thread_block().map_err(io::Error::from)
}

/// Starts the thread that acts on SIGINT and SIGTERM for `session`.
pub(crate) fn spawn_watcher(session: Arc<Session>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || loop {
            match handled().wait() {
                Ok(Signal::SIGINT) => session.abort(),
                Ok(Signal::SIGTERM) if TRAP_TERM.load(Ordering::SeqCst) => {}
                Ok(Signal::SIGTERM) => die(Signal::SIGTERM),
                Ok(_) => {}
                Err(_) => return,
            }
        })
        .map(drop)
}

/// Ignores SIGTERM from now on.
pub(crate) fn trap_term() {
    TRAP_TERM.store(true, Ordering::SeqCst);
}

/// Dies by `signal`'s default action.
fn die(signal: Signal) -> ! {
    let _ = SigSet::from(signal).thread_unblock();
    let _ = raise(signal);
    // Not reached for SIGTERM, whose default action is to terminate.
    std::process::exit(128 + signal as i32)
}
