//! The socket: its folder and modes, a stale file replaced, a live server never displaced, and
//! peers of another uid refused.

use std::fs::{self, Permissions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::unistd::{chown, User};
use tasktray_api::{bind, ApiServer, BindError, SOCKET_FILE};
use tasktray_test_support::{bounded, Sandbox};

use crate::{state, Client, Harness};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").mode() & 0o777
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_is_private_and_the_socket_is_the_users() {
    bounded(async {
        let h = Harness::start();
        assert_eq!(mode(&h.socket), 0o600);
        assert_eq!(mode(h.socket.parent().expect("a folder")), 0o700);
        assert!(h.socket.starts_with(h.sandbox.path().join("run")));

        let open = h.sandbox.path().join("open");
        fs::create_dir(&open).expect("a folder");
        fs::set_permissions(&open, Permissions::from_mode(0o755)).expect("chmod");
        let refused = bind(&open.join(SOCKET_FILE)).expect_err("a folder open to others");
        assert!(matches!(refused, BindError::UnsafeDir { .. }), "{refused}");
        assert!(refused.to_string().contains("0755"), "{refused}");

        let file_dir = h.sandbox.path().join("files");
        fs::create_dir(&file_dir).expect("a folder");
        fs::set_permissions(&file_dir, Permissions::from_mode(0o700)).expect("chmod");
        fs::write(file_dir.join(SOCKET_FILE), "not a socket").expect("a file");
        let refused = bind(&file_dir.join(SOCKET_FILE)).expect_err("a file in the way");
        assert!(matches!(refused, BindError::NotASocket { .. }), "{refused}");

        if is_root() {
            let theirs = h.sandbox.path().join("theirs");
            fs::create_dir(&theirs).expect("a folder");
            fs::set_permissions(&theirs, Permissions::from_mode(0o700)).expect("chmod");
            let nobody = User::from_name("nobody").ok().flatten().expect("nobody");
            chown(&theirs, Some(nobody.uid), None).expect("chown");
            let refused = bind(&theirs.join(SOCKET_FILE)).expect_err("someone else's folder");
            assert!(matches!(refused, BindError::UnsafeDir { .. }), "{refused}");
        } else {
            println!("skipped the other-owner folder check: it needs root to chown");
        }
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_socket_is_replaced_at_bind() {
    bounded(async {
        let sandbox = Sandbox::new();
        let dir = sandbox.path().join("run");
        fs::create_dir(&dir).expect("a folder");
        fs::set_permissions(&dir, Permissions::from_mode(0o700)).expect("chmod");
        let path = dir.join(SOCKET_FILE);
        // A crashed app leaves its socket file behind, with nobody listening.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("a listener"));
        assert!(path.exists());

        let supervisor = supervisor::Supervisor::start(
            crate::config(&sandbox),
            tokio::runtime::Handle::current(),
        )
        .expect("the supervisor starts");
        let server =
            ApiServer::start(&path, state(&supervisor)).expect("the stale file is replaced");
        let version = Client::new(&path).get("/v1/version").await.expect(200);
        assert_eq!(version["api"], "v1");
        server.stop().await;
        assert!(!path.exists(), "the socket file is removed at stop");
        supervisor.shutdown(std::time::Duration::from_secs(5)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_is_refused_while_one_answers() {
    bounded(async {
        let h = Harness::start();
        let second = bind(&h.socket).expect_err("a server answers there");
        assert!(
            matches!(second, BindError::AlreadyRunning { .. }),
            "{second}"
        );
        let again = ApiServer::start(&h.socket, state(&h.supervisor)).expect_err("refused");
        assert!(matches!(again, BindError::AlreadyRunning { .. }));
        h.client.get("/v1/version").await.expect(200);
        h.finish().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_uid_is_refused() {
    bounded(async {
        if !is_root() {
            eprintln!("skipped: connecting as another user needs root (setpriv)");
            return;
        }
        let h = Harness::start();
        // Let `nobody` reach the socket file, so the check under test is SO_PEERCRED alone.
        let mut dir = h.socket.parent().map(Path::to_path_buf);
        while let Some(d) = dir.filter(|d| d.starts_with(h.sandbox.path())) {
            fs::set_permissions(&d, Permissions::from_mode(0o711)).expect("chmod");
            dir = d.parent().map(Path::to_path_buf);
        }
        fs::set_permissions(&h.socket, Permissions::from_mode(0o666)).expect("chmod");

        let socket = h.socket.to_str().expect("UTF-8").to_owned();
        let output = tokio::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(["curl", "--silent", "--show-error", "--unix-socket", &socket])
            .args(["--write-out", "\n%{http_code}", "http://localhost/v1/tasks"])
            .output()
            .await
            .expect("setpriv and curl run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (body, status) = stdout.rsplit_once('\n').expect("a status line");
        assert_eq!(status, "403", "{stdout}");
        let error: serde_json::Value = serde_json::from_str(body).expect("a JSON error");
        assert_eq!(error["code"], "PeerRefused");

        // The owner is still served.
        h.client.get("/v1/tasks").await.expect(200);
        h.finish().await;
    })
    .await;
}
