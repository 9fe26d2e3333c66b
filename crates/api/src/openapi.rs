//! The OpenAPI document: the operations come from the handlers' `#[utoipa::path]`s (collected
//! by the route table), the schemas from the types. Committed as `crates/api/openapi.json`
//! and served at `GET /openapi.json`; a test keeps the two equal.

use utoipa::OpenApi;

use crate::types::ResyncEvent;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tasktray API",
        description = "Tasktray's local API: HTTP/1.1 and JSON on the Unix socket \
            `$XDG_RUNTIME_DIR/tasktray/api.sock`, for the user who runs Tasktray. \
            Errors are `{\"code\", \"message\"}` (ApiError)."
    ),
    components(schemas(ResyncEvent)),
    tags(
        (name = "tasks", description = "Start, list, wait for, cancel and remove tasks"),
        (name = "output", description = "A task's output, by sequence number"),
        (name = "interaction", description = "Approvals, messages and interrupts of running two-way tasks"),
        (name = "worktrees", description = "Review, merge, keep or discard a worktree task's branch"),
        (name = "events", description = "Server-Sent Events of every task"),
        (name = "settings", description = "The user's settings, shared by the app and taskctl"),
        (name = "meta", description = "Versions")
    )
)]
pub(crate) struct ApiDoc;

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::routes::router().split_for_parts().1
}

/// [`openapi`] as pretty JSON with a final newline, as committed in `crates/api/openapi.json`.
pub fn openapi_json() -> String {
    to_json(&openapi())
}

pub(crate) fn to_json(doc: &utoipa::openapi::OpenApi) -> String {
    let mut json = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"the OpenAPI document: {e}\"}}"));
    json.push('\n');
    json
}
