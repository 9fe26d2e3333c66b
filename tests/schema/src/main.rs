//! `tasktray-schema-server --dir DIR`: Tasktray's real local API, for the schemathesis run of
//! `make test-schema` (see `tests/schema/README.md`).
//!
//! It runs a real [`Supervisor`] with the workspace's fake agent (`fake-claude`) and shim
//! (`tasktray-shim`), both next to this binary, and serves the API on a real Unix socket with
//! [`ApiServer`], as the app does. Everything lives in `DIR`, which must be empty: the data
//! dir, the home and runtime dir the agent search and the socket use, and the project folders
//! tasks run in. Nothing outside it is read or written.
//!
//! schemathesis speaks TCP only, so the socket is also reachable on `127.0.0.1` (a port the
//! kernel picks) through a forwarder. The forwarder keeps the socket's rule that only its
//! user may talk to it: it looks up who owns each connecting TCP socket in `/proc/net/tcp`
//! and closes connections of any other uid before they reach the API. The API's own
//! `SO_PEERCRED` check then sees the forwarder, a process of the same user.
//!
//! Before it serves, it starts a few tasks of its own ([`SEEDED`]) for the routes about a
//! task to meet. When it serves, it writes `DIR/server.json`: `url`, `socket`, `agent`,
//! `projects` (the folders for tasks) and `data_dir`. SIGTERM or SIGINT stops the server and
//! the supervisor (every task's tree) and exits 0.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use supervisor::{AgentSearch, Settings, ShimProgram, Supervisor, SupervisorConfig};
use tasktray_api::{socket_path, ApiServer, ApiState, FileSettings};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::signal::unix::{signal, SignalKind};

/// Project folders that tasks may run in, so that some spawns can run side by side and
/// others meet a busy project.
const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];

/// Tasks started before the fuzzer comes (ids 1, 2, 3, each in a folder of its own), so that
/// the routes about a task also meet tasks in every state and real approvals: one that asks
/// before running a tool and waits for the answer, one that runs until it is stopped, and one
/// that has ended with a session to follow up. Prompts starting `fake:` script the fake agent.
const SEEDED: [(&str, &str, bool); 3] = [
    ("asking", "fake: ask Bash touch seeded", false),
    ("running", "fake: say started; sleep 600", false),
    ("ended", "hello", true),
];

/// How long the supervisor's tasks get to stop at the end.
const SHUTDOWN: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(io::stderr)
        .with_ansi(false)
        .init();
    let dir = match parse_args() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("tasktray-schema-server: {e}\nusage: tasktray-schema-server --dir EMPTY_DIR");
            return ExitCode::from(2);
        }
    };
    let setup = match Setup::new(&dir) {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("tasktray-schema-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The environment is set before any thread starts: the supervisor resolves the agent
    // from it whenever the settings are saved (`Settings::apply`), and the tasks inherit it.
    setup.hermetic_env();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tasktray-schema-server: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(setup)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tasktray-schema-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<PathBuf, String> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(dir), None) if flag == "--dir" => Ok(PathBuf::from(dir)),
        _ => Err("wrong arguments".into()),
    }
}

/// The folders and binaries of one run.
#[derive(Debug)]
struct Setup {
    dir: PathBuf,
    agent: PathBuf,
    shim: PathBuf,
}

impl Setup {
    fn new(dir: &Path) -> Result<Self, String> {
        let dir = fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let empty = fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            return Err(format!("{} is not empty", dir.display()));
        }
        let exe = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
        let agent = exe.with_file_name("fake-claude");
        let shim = exe.with_file_name("tasktray-shim");
        for bin in [&agent, &shim] {
            if !bin.is_file() {
                return Err(format!(
                    "{} is missing: cargo build -p fake-claude -p supervisor --bins",
                    bin.display()
                ));
            }
        }
        for sub in ["home", "run", "data"] {
            create_private_dir(&dir.join(sub))?;
        }
        let seeded = SEEDED.iter().map(|(folder, _, _)| *folder);
        for project in PROJECTS.into_iter().chain(seeded) {
            fs::create_dir_all(dir.join("projects").join(project))
                .map_err(|e| format!("cannot create a project folder: {e}"))?;
        }
        Ok(Setup { dir, agent, shim })
    }

    fn projects(&self) -> Vec<PathBuf> {
        let root = self.dir.join("projects");
        PROJECTS.iter().map(|p| root.join(p)).collect()
    }

    /// A home, runtime and config dir inside `dir`, and the fake agent wherever the agent is
    /// looked for (`TASKTRAY_AGENT` comes before `PATH` and the home).
    fn hermetic_env(&self) {
        let set = |key: &str, value: &Path| std::env::set_var(key, value);
        set("HOME", &self.dir.join("home"));
        set("XDG_RUNTIME_DIR", &self.dir.join("run"));
        set("XDG_DATA_HOME", &self.dir.join("home/.local/share"));
        set("XDG_CONFIG_HOME", &self.dir.join("home/.config"));
        set("TASKTRAY_DATA_DIR", &self.dir.join("data"));
        set("TASKTRAY_AGENT", &self.agent);
    }
}

fn create_private_dir(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

async fn run(setup: Setup) -> Result<(), String> {
    // Before anything runs: a stop request stops everything, whenever it comes.
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let data_dir = setup.dir.join("data");
    // As the app starts: the saved settings (none yet), then the workspace's fake agent.
    let mut config = SupervisorConfig::new(
        data_dir.clone(),
        AgentSearch::from_env(None),
        ShimProgram {
            program: setup.shim.clone(),
        },
    );
    Settings::load(&Settings::path(&data_dir)).apply(&mut config);
    config.agent.explicit = Some(setup.agent.clone());
    // As root (as in CI), the fake agent refuses bypassPermissions without it.
    config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
    let supervisor = Supervisor::start(config, tokio::runtime::Handle::current())
        .map_err(|e| format!("the supervisor does not start: {e}"))?;

    let socket = socket_path(
        Some(&setup.dir.join("run")),
        nix::unistd::geteuid().as_raw(),
    );
    let settings = Arc::new(FileSettings::new(supervisor.clone()));
    let server = ApiServer::start(&socket, ApiState::new(supervisor.clone(), settings))
        .map_err(|e| format!("the API does not start: {e}"))?;

    for (folder, prompt, keep_session) in SEEDED {
        let request = serde_json::from_value(json!({
            "prompt": prompt,
            "project_dir": setup.dir.join("projects").join(folder),
            "options": {"keep_session": keep_session},
        }))
        .map_err(|e| format!("a seeded task: {e}"))?;
        supervisor
            .spawn(request)
            .map_err(|e| format!("a seeded task does not start: {e}"))?;
    }

    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("the TCP address: {e}"))?;
    let url = format!("http://{address}");
    let info = json!({
        "url": url,
        "socket": socket,
        "agent": setup.agent,
        "projects": setup.projects(),
        "data_dir": data_dir,
    });
    write_atomically(&setup.dir.join("server.json"), &format!("{info:#}\n"))?;
    tracing::info!("serving {} on {url}", socket.display());

    let uid = nix::unistd::geteuid().as_raw();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    tokio::spawn(forward(client, peer, address, socket.clone(), uid));
                }
                Err(e) => tracing::warn!("accept: {e}"),
            },
        }
    }
    tracing::info!("stopping");
    drop(listener);
    server.stop().await;
    supervisor.shutdown(SHUTDOWN).await;
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Copies one TCP connection to a new connection to the socket, both ways, if the TCP peer
/// is a process of `uid`.
async fn forward(
    mut client: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    socket: PathBuf,
    uid: u32,
) {
    match tcp_owner(peer, local) {
        Ok(Some(owner)) if owner == uid => {}
        Ok(owner) => {
            tracing::warn!("refused {peer}: owned by uid {owner:?}, only uid {uid} may connect");
            return;
        }
        Err(e) => {
            tracing::warn!("refused {peer}: cannot read /proc/net/tcp: {e}");
            return;
        }
    }
    let mut api = match UnixStream::connect(&socket).await {
        Ok(api) => api,
        Err(e) => {
            tracing::warn!("cannot connect to {}: {e}", socket.display());
            return;
        }
    };
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut api).await {
        tracing::debug!("connection from {peer}: {e}");
    }
}

/// The uid that owns the TCP socket at `peer` connected to `local`, as `/proc/net/tcp` says
/// (`None` when it is not listed, e.g. already closed).
fn tcp_owner(peer: SocketAddr, local: SocketAddr) -> io::Result<Option<u32>> {
    let (SocketAddr::V4(peer), SocketAddr::V4(local)) = (peer, local) else {
        return Ok(None);
    };
    let table = fs::read_to_string("/proc/net/tcp")?;
    Ok(owner_in_table(&table, peer, local))
}

/// The `uid` column of the row whose local address is `peer` and remote address `local`.
fn owner_in_table(table: &str, peer: SocketAddrV4, local: SocketAddrV4) -> Option<u32> {
    let (want_local, want_remote) = (proc_address(peer), proc_address(local));
    table.lines().skip(1).find_map(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        match fields.as_slice() {
            [_, l, r, _, _, _, _, uid, ..] if *l == want_local && *r == want_remote => {
                uid.parse().ok()
            }
            _ => None,
        }
    })
}

/// An address as `/proc/net/tcp` writes it: the IPv4 address as a native-endian word, then
/// the port, both in upper-case hex (`0100007F:1F90` for 127.0.0.1:8080 on x86).
fn proc_address(address: SocketAddrV4) -> String {
    format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(address.ip().octets()),
        address.port()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_of_a_connection_is_read_from_proc() {
        let peer = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 40000);
        let local = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
        // Rows as the kernel writes them (the listener's, then a connection of uid 1000), with
        // 127.0.0.1 as x86 prints it; the columns after `uid` do not matter here.
        let header = "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid";
        let listening = "0: 0100007F:1F90 00000000:0000 0A 0:0 00:0 0 0 0 1";
        let connected = "1: 0100007F:9C40 0100007F:1F90 01 0:0 00:0 0 1000 0 2";
        let table = format!("  {header}\n   {listening}\n   {connected}\n");
        assert_eq!(proc_address(local), "0100007F:1F90");
        assert_eq!(owner_in_table(&table, peer, local), Some(1000));
        let stranger = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 40001);
        assert_eq!(owner_in_table(&table, stranger, local), None);
    }

    #[tokio::test]
    async fn a_real_connection_is_ours() {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("listen");
        let local = listener.local_addr().expect("address");
        let _client = TcpStream::connect(local).await.expect("connect");
        let (_server, peer) = listener.accept().await.expect("accept");
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(tcp_owner(peer, local).expect("read /proc"), Some(me));
    }
}
