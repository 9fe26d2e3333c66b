//! The host's settings and the server's version.

use axum::extract::State;
use axum::Json;
use supervisor::Settings;

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::server::AppState;
use crate::types::VersionInfo;
use crate::API_VERSION;

/// The user's settings (what the app's Settings window shows).
#[utoipa::path(get, path = "/v1/settings", tag = "settings", operation_id = "getSettings",
    responses((status = 200, description = "The settings", body = Settings)))]
pub(crate) async fn get_settings(State(state): State<AppState>) -> Json<Settings> {
    Json(state.settings.get())
}

/// Replace the settings.
///
/// They are validated, saved, and applied to tasks started from now on.
#[utoipa::path(put, path = "/v1/settings", tag = "settings", operation_id = "putSettings",
    request_body = Settings,
    responses(
        (status = 200, description = "The settings as saved", body = Settings),
        (status = 400, description = "Settings that do not validate, or malformed JSON", body = ApiError),
        (status = 500, description = "The settings could not be saved", body = ApiError)))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    ApiJson(settings): ApiJson<Settings>,
) -> Result<Json<Settings>, ApiError> {
    let store = state.settings.clone();
    Ok(Json(
        super::blocking(move || Ok(store.save(settings)?)).await?,
    ))
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
