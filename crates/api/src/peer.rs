//! Only the user who runs the server may use it: each connection's peer credentials
//! (`SO_PEERCRED`) are read at accept, and a request from another uid is answered 403 before
//! any route runs. The socket's folder and mode keep others out already; this holds even when
//! they are loosened by mistake.

use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use tokio::net::UnixListener;

use crate::error::ApiError;

/// Who is on the other end of a connection, as the kernel says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    /// `None` when the credentials could not be read; such a peer is refused.
    uid: Option<u32>,
    pid: Option<i32>,
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        match stream.io().peer_cred() {
            Ok(cred) => Peer {
                uid: Some(cred.uid()),
                pid: cred.pid(),
            },
            Err(e) => {
                tracing::warn!("api: cannot read a peer's credentials: {e}");
                Peer {
                    uid: None,
                    pid: None,
                }
            }
        }
    }
}

/// Middleware: lets a request through only from a peer with the server's uid (`owner`).
pub(crate) async fn same_user_only(
    State(owner): State<u32>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
    next: Next,
) -> Response {
    if peer.uid == Some(owner) {
        return next.run(request).await;
    }
    let who = match (peer.uid, peer.pid) {
        (Some(uid), Some(pid)) => format!("uid {uid} (pid {pid})"),
        (Some(uid), None) => format!("uid {uid}"),
        _ => "a peer of unknown uid".to_owned(),
    };
    tracing::warn!(
        "api: refused {} {} from {who}: only uid {owner} may use this socket",
        request.method(),
        request.uri().path()
    );
    ApiError::new(
        StatusCode::FORBIDDEN,
        "PeerRefused",
        format!("only uid {owner} may use this socket"),
    )
    .into_response()
}
