//! Tasktray's local HTTP API: HTTP/1.1 + JSON on a Unix socket, served from a [`Supervisor`]
//! by whichever host owns it (the tray app). No Tauri in here, so tests boot the server
//! in-process on a temp socket.
//!
//! # Theory of operation
//!
//! **Where.** [`socket_path`] is `$XDG_RUNTIME_DIR/tasktray/api.sock`, or
//! `<temp dir>/tasktray-<uid>/api.sock` without a runtime dir. [`bind`] creates the folder
//! 0700 and refuses one that is not ours or is open to others (the folder is what keeps other
//! users out of the file), replaces a stale socket a crashed host left (nobody answers a
//! connect), refuses with [`BindError::AlreadyRunning`] when a server answers, and makes the
//! socket 0600.
//!
//! **Who.** Every connection's peer credentials (`SO_PEERCRED`) are read at accept; a request
//! from another uid gets 403 `PeerRefused` and a warning in the log, before any route runs.
//!
//! **What.** [`serve`] runs an axum router over the listener. Routes are versioned and
//! resource-shaped (`/v1/tasks/{id}/...`, see the README), and each handler is thin: parse,
//! call one [`Supervisor`] method, map the error. Every error, also a malformed body or query,
//! an unknown route or an oversized body ([`MAX_BODY_BYTES`], 413), is an [`ApiError`]:
//! `{"code", "message"}` with a fitting status, the core's [`supervisor::Error::code`] as the
//! code. Settings belong to the host, so they pass through as JSON ([`SettingsStore`]).
//!
//! **Events.** `GET /v1/events` is Server-Sent Events of the supervisor's broadcast channel.
//! Each connection holds one broadcast receiver and nothing else: when the client stops
//! reading, the socket and hyper's write buffer fill up, the stream is not polled, and the
//! receiver falls behind; the next read turns `Lagged(n)` into a `resync` event. Memory per
//! reader is thus bounded by the channel's fixed size, and a gap is always announced.
//!
//! **Stop.** The shutdown token stops accepting, ends every event stream and long poll (so
//! graceful shutdown does not wait on them), and lets open requests finish; [`ApiServer::stop`]
//! bounds that wait and removes the socket file.
//!
//! **Contract.** The OpenAPI document ([`openapi`]) is generated from the handlers and the
//! types (the core's through its `openapi` feature), served at `/openapi.json` and committed
//! as `crates/api/openapi.json`; a test fails when the committed copy is stale.

#[cfg(feature = "client")]
pub mod client;
mod error;
mod events;
mod extract;
mod openapi;
mod paths;
mod peer;
mod routes;
mod server;
mod types;

pub use axum::http::StatusCode;
pub use error::ApiError;
pub use events::{KEEP_ALIVE_INTERVAL, RESYNC_EVENT};
pub use openapi::{openapi, openapi_json};
pub use paths::{bind, default_socket_path, socket_path, BindError, SOCKET_DIR, SOCKET_FILE};
pub use server::{serve, ApiServer, ApiState, FileSettings, SettingsStore, STOP_TIMEOUT};
pub use types::{
    ApprovalList, FollowUpBody, MessageBody, OutputPage, ResyncEvent, TaskList, VersionInfo,
};

#[doc(no_inline)]
pub use supervisor::Supervisor;

/// The version segment of every route (`/v1/...`).
pub const API_VERSION: &str = "v1";

/// The largest request body accepted; a prompt can be large. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Tasks in one page of `GET /v1/tasks` unless `limit` says otherwise.
pub const DEFAULT_LIST_LIMIT: usize = supervisor::DEFAULT_PAGE as usize;

/// The most tasks one page of `GET /v1/tasks` returns.
pub const MAX_LIST_LIMIT: usize = supervisor::MAX_PAGE as usize;

/// Lines in one page of output unless `count` says otherwise.
pub const DEFAULT_PAGE_LINES: usize = 1000;

/// The most lines one page of output returns.
pub const MAX_PAGE_LINES: usize = 5000;
