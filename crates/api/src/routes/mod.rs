//! The routes, one thin handler each, and the table that puts them together with their
//! OpenAPI operations (utoipa-axum's `routes!` takes a handler's path from its
//! `#[utoipa::path]`, so the spec and the router cannot disagree).

mod interact;
mod meta;
mod output;
mod tasks;
mod worktree;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::events;
use crate::openapi::ApiDoc;
use crate::server::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tasks::list, tasks::spawn))
        .routes(routes!(tasks::get, tasks::remove))
        .routes(routes!(tasks::wait))
        .routes(routes!(tasks::cancel))
        .routes(routes!(tasks::follow_up))
        .routes(routes!(output::output))
        .routes(routes!(interact::interrupt))
        .routes(routes!(interact::send_message))
        .routes(routes!(interact::all))
        .routes(routes!(interact::of_task))
        .routes(routes!(interact::answer))
        .routes(routes!(events::events))
        .routes(routes!(meta::get_settings, meta::put_settings))
        .routes(routes!(meta::version))
        .routes(routes!(worktree::review))
        .routes(routes!(worktree::diff))
        .routes(routes!(worktree::merge))
        .routes(routes!(worktree::keep_branch))
        .routes(routes!(worktree::discard))
        .routes(routes!(worktree::repo_head))
}

/// Runs `work` (file writes with fsync, locks, process signals) on the blocking pool, so a
/// burst of such requests never holds the workers that answer the quick ones.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::error::ApiError> + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| crate::error::ApiError::internal("Io", format!("the work stopped: {e}")))?
}
