//! The app binary as a task shim. It links libraries that start a thread before `main`, so the
//! shim must not rely on a signal mask of its own thread: a SIGTERM that lands on the other
//! thread must still stop the tree, not kill the shim and orphan the agent.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tasktray_test_support::{alive, wait_child, wait_until, TEST_TIMEOUT};

#[test]
fn sigterm_to_the_app_binary_as_shim_stops_the_agent_too() {
    let (lifeline_read, lifeline_write) = nix::unistd::pipe().expect("pipe");
    let pid_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut shim = Command::new(env!("CARGO_BIN_EXE_tasktray"))
        .args(["__tasktray_shim", "5000", "-", "/bin/sh", "-c"])
        .arg(format!(
            "echo $$ > {}; exec sleep 60",
            pid_file.path().display()
        ))
        .stdin(Stdio::from(lifeline_read))
        .spawn()
        .expect("start the app binary as a shim");
    let agent = {
        let mut pid = None;
        assert!(wait_until(TEST_TIMEOUT, || {
            pid = std::fs::read_to_string(pid_file.path())
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
            pid.is_some()
        }));
        pid.expect("the agent wrote its pid")
    };
    let threads = std::fs::read_dir(format!("/proc/{}/task", shim.id()))
        .map(|d| d.count())
        .unwrap_or(0);
    eprintln!("the app binary runs the shim with {threads} threads");

    kill(Pid::from_raw(shim.id() as i32), Signal::SIGTERM).expect("SIGTERM the shim");
    let status = wait_child(&mut shim, TEST_TIMEOUT);
    assert!(
        wait_until(Duration::from_secs(5), || !alive(agent)),
        "the agent {agent} outlived its shim"
    );
    assert_eq!(
        status.signal(),
        Some(Signal::SIGTERM as i32),
        "the shim ends like its agent: {status:?}"
    );
    drop(lifeline_write);
}
