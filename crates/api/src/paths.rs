//! Where the socket lives and how it is bound: a private folder (0700, ours), a socket file
//! (0600), a stale file from a crashed host replaced, a live server never displaced.
//!
//! Two hosts that start at the very same moment could both find a stale file and race to
//! replace it; the tray app is single-instance, so that does not happen in practice.

use std::fs::{self, DirBuilder, Permissions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use tokio::net::UnixListener;

/// The folder under the runtime dir that holds the socket.
pub const SOCKET_DIR: &str = "tasktray";

/// The socket's file name.
pub const SOCKET_FILE: &str = "api.sock";

/// Why the API could not listen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    #[error("another Tasktray already serves its API on {}", path.display())]
    AlreadyRunning { path: PathBuf },

    #[error("the socket folder {} is not safe to use: {reason}", path.display())]
    UnsafeDir { path: PathBuf, reason: String },

    #[error("{} exists and is not a socket; move it away", path.display())]
    NotASocket { path: PathBuf },

    #[error("could not {about} {}: {source}", path.display())]
    Io {
        about: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error<'a>(about: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BindError + 'a {
    move |source| BindError::Io {
        about,
        path: path.to_path_buf(),
        source,
    }
}

/// The socket's path: `<runtime_dir>/tasktray/api.sock`, or `<temp dir>/tasktray-<uid>/api.sock`
/// when there is no runtime dir (a relative one does not count, as the XDG spec says).
pub fn socket_path(runtime_dir: Option<&Path>, uid: u32) -> PathBuf {
    match runtime_dir.filter(|dir| dir.is_absolute()) {
        Some(dir) => dir.join(SOCKET_DIR).join(SOCKET_FILE),
        None => std::env::temp_dir()
            .join(format!("{SOCKET_DIR}-{uid}"))
            .join(SOCKET_FILE),
    }
}

/// [`socket_path`] from `$XDG_RUNTIME_DIR` and this process's effective uid.
pub fn default_socket_path() -> PathBuf {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    socket_path(runtime_dir.as_deref(), nix::unistd::geteuid().as_raw())
}

/// Listens on `path`: creates its folder (0700) or checks it (a folder, not a link, ours, no
/// access for group or others), replaces a stale socket that nobody answers on, refuses with
/// [`BindError::AlreadyRunning`] when a server answers, and makes the socket 0600. Must be
/// called within a tokio runtime.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| BindError::UnsafeDir {
            path: path.to_path_buf(),
            reason: "the socket needs a folder of its own".into(),
        })?;
    prepare_dir(dir)?;
    clear_stale(path)?;
    let listener = match UnixListener::bind(path) {
        Ok(listener) => listener,
        // Someone bound it between our check and now.
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            return Err(BindError::AlreadyRunning {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io_error("listen on", path)(e)),
    };
    fs::set_permissions(path, Permissions::from_mode(0o600))
        .map_err(io_error("restrict the socket", path))?;
    Ok(listener)
}

fn prepare_dir(dir: &Path) -> Result<(), BindError> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("create the socket folder", dir)(e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(io_error("inspect the socket folder", dir))?;
    let unsafe_dir = |reason: String| BindError::UnsafeDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a folder (a link or a file)".into()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_dir(format!(
            "it belongs to uid {}, not to uid {me}",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "its mode is {mode:04o}, open to others; it must be 0700 (chmod 700 {})",
            dir.display()
        )));
    }
    Ok(())
}

/// Removes a socket file nobody answers on; refuses when a server answers.
fn clear_stale(path: &Path) -> Result<(), BindError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("inspect", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(BindError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    if answers(path)? {
        return Err(BindError::AlreadyRunning {
            path: path.to_path_buf(),
        });
    }
    tracing::info!(
        "removing the stale socket {} (nobody answers on it)",
        path.display()
    );
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Whether a server accepts connections on the socket at `path`. The connect does not block:
/// a server whose backlog is full (`EAGAIN`) is still a server.
fn answers(path: &Path) -> Result<bool, BindError> {
    let as_io = |e: Errno| io_error("connect to", path)(io::Error::from(e));
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(as_io)?;
    let addr = UnixAddr::new(path).map_err(as_io)?;
    match connect(fd.as_raw_fd(), &addr) {
        Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINPROGRESS) => Ok(true),
        Err(Errno::ECONNREFUSED) | Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(as_io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_dir_or_a_private_temp_folder() {
        assert_eq!(
            socket_path(Some(Path::new("/run/user/1000")), 1000),
            Path::new("/run/user/1000/tasktray/api.sock")
        );
        let fallback = std::env::temp_dir().join("tasktray-1000/api.sock");
        assert_eq!(socket_path(None, 1000), fallback);
        assert_eq!(socket_path(Some(Path::new("")), 1000), fallback);
        assert_eq!(socket_path(Some(Path::new("run")), 1000), fallback);
    }
}
