//! The routes, one thin handler each, and the table that puts them together with their
//! OpenAPI operations (utoipa-axum's `routes!` takes a handler's path from its
//! `#[utoipa::path]`, so the spec and the router cannot disagree).

mod interact;
mod meta;
mod output;
mod tasks;

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
}
