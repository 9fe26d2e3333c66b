//! Serving: the state the handlers share, the router with its fallbacks and layers, [`serve`]
//! over a listener, and [`ApiServer`], which binds, serves in the background and stops.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method, StatusCode, Uri};
use axum::routing::get;
use axum::{middleware, Router};
use supervisor::{Settings, SpawnRequest, Supervisor};
use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::paths::{bind, BindError};
use crate::peer::{self, Peer};
use crate::{openapi, routes, MAX_BODY_BYTES};

/// How long [`ApiServer::stop`] lets open requests finish before dropping them.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the host keeps its settings.
pub trait SettingsStore: Send + Sync {
    /// The settings now.
    fn get(&self) -> Settings;

    /// Validates, saves and applies new settings; returns them as saved.
    fn save(&self, settings: Settings) -> supervisor::Result<Settings>;

    /// Applies the settings to a task about to start through the API, as the host does for
    /// its own spawns (the tools Settings always allows).
    fn prepare_spawn(&self, request: &mut SpawnRequest) {
        self.get().prepare(request);
    }
}

/// Settings kept in a data dir's `settings.json` and applied to a supervisor: the store of a
/// host that has no other use for them.
#[derive(Debug)]
pub struct FileSettings {
    supervisor: Supervisor,
    current: std::sync::Mutex<Settings>,
}

impl FileSettings {
    /// Reads the data dir's settings (the defaults when there are none). They are applied to
    /// the supervisor when saved; the host applies them at start as it builds its config
    /// ([`Settings::apply`]), where it may also override them.
    pub fn new(supervisor: Supervisor) -> Self {
        let settings = Settings::load(&Settings::path(&supervisor.config().data_dir));
        FileSettings {
            supervisor,
            current: std::sync::Mutex::new(settings),
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SettingsStore for FileSettings {
    fn get(&self) -> Settings {
        self.current().clone()
    }

    fn save(&self, settings: Settings) -> supervisor::Result<Settings> {
        let settings = settings.validate()?;
        settings.save(&Settings::path(&self.supervisor.config().data_dir))?;
        self.supervisor.configure(|config| settings.apply(config));
        *self.current() = settings.clone();
        Ok(settings)
    }
}

/// What the API serves: the host's supervisor and its settings.
#[derive(Clone)]
pub struct ApiState {
    supervisor: Supervisor,
    settings: Arc<dyn SettingsStore>,
}

impl ApiState {
    pub fn new(supervisor: Supervisor, settings: Arc<dyn SettingsStore>) -> Self {
        ApiState {
            supervisor,
            settings,
        }
    }
}

impl fmt::Debug for ApiState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiState")
            .field("supervisor", &self.supervisor)
            .finish_non_exhaustive()
    }
}

/// The handlers' state.
pub(crate) struct Shared {
    pub(crate) supervisor: Supervisor,
    pub(crate) settings: Arc<dyn SettingsStore>,
    /// Cancelled when the server stops: ends event streams and long polls.
    pub(crate) shutdown: CancellationToken,
}

pub(crate) type AppState = Arc<Shared>;

/// The whole service: the routes, `/openapi.json`, JSON fallbacks, the body limit, and the
/// peer check in front of everything.
fn app(state: ApiState, shutdown: CancellationToken, owner: u32) -> Router {
    let shared = Arc::new(Shared {
        supervisor: state.supervisor,
        settings: state.settings,
        shutdown,
    });
    let (routes, doc) = routes::router().split_for_parts();
    let spec = openapi::to_json(&doc);
    routes
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], spec) }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
        .layer(middleware::from_fn_with_state(owner, peer::same_user_only))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "there is no {method} {}; the routes are in GET /openapi.json",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{} does not take {method}", uri.path()),
    )
}

/// Serves the API on `listener` until `shutdown` is cancelled, then lets open requests finish
/// (event streams and long polls end at once). Only peers with this process's effective uid
/// are served.
pub async fn serve(
    listener: UnixListener,
    state: ApiState,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let owner = nix::unistd::geteuid().as_raw();
    let app = app(state, shutdown.clone(), owner);
    axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// A running API server: bound, serving on the runtime it was started on. Dropping it stops
/// the server in the background; [`ApiServer::stop`] waits for it.
#[derive(Debug)]
pub struct ApiServer {
    path: PathBuf,
    /// The socket file we bound (device, inode), removed when we stop if it is still ours.
    file: Option<(u64, u64)>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl ApiServer {
    /// Binds `path` (see [`bind`]) and serves on the current tokio runtime.
    pub fn start(path: impl Into<PathBuf>, state: ApiState) -> Result<Self, BindError> {
        let path = path.into();
        let listener = bind(&path)?;
        let file = fs::metadata(&path).ok().map(|m| (m.dev(), m.ino()));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, state, shutdown.clone()));
        tracing::info!("api: serving on {}", path.display());
        Ok(ApiServer {
            path,
            file,
            shutdown,
            task: Some(task),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, ends event streams and long polls, gives open requests up to
    /// [`STOP_TIMEOUT`], and removes the socket file.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(STOP_TIMEOUT, &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!("api: the server failed: {e}"),
                Ok(Err(e)) => tracing::warn!("api: the server task failed: {e}"),
                Err(_) => {
                    tracing::warn!("api: open requests did not finish in {STOP_TIMEOUT:?}");
                    task.abort();
                }
            }
        }
        self.remove_socket();
    }

    fn remove_socket(&mut self) {
        let Some(ours) = self.file.take() else {
            return;
        };
        let still_ours = fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == ours);
        if still_ours {
            if let Err(e) = fs::remove_file(&self.path) {
                tracing::warn!("api: could not remove {}: {e}", self.path.display());
            }
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.remove_socket();
    }
}
