//! The host's settings and the server's version.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::server::AppState;
use crate::types::VersionInfo;
use crate::API_VERSION;

/// The host's settings (the app's Settings, as JSON).
#[utoipa::path(get, path = "/v1/settings", tag = "settings", operation_id = "getSettings",
    responses((status = 200, description = "The settings", body = Object)))]
pub(crate) async fn get_settings(State(state): State<AppState>) -> Json<Value> {
    Json(state.settings.get())
}

/// Replace the settings.
///
/// They are validated, saved, and applied to tasks started from now on.
#[utoipa::path(put, path = "/v1/settings", tag = "settings", operation_id = "putSettings",
    request_body = Object,
    responses(
        (status = 200, description = "The settings as saved", body = Object),
        (status = 400, description = "Settings that do not validate, or malformed JSON", body = ApiError),
        (status = 500, description = "The settings could not be saved", body = ApiError)))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    state.settings.save(value).map(Json)
}

/// The API and Tasktray versions.
#[utoipa::path(get, path = "/v1/version", tag = "meta", operation_id = "getVersion",
    responses((status = 200, description = "Versions", body = VersionInfo)))]
pub(crate) async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        api: API_VERSION.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
