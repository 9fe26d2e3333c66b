//! `/v1/tasks/{id}/output`: a task's output, a page at a time, by sequence number.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use supervisor::TaskId;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::server::AppState;
use crate::types::OutputPage;
use crate::{DEFAULT_PAGE_LINES, MAX_PAGE_LINES};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OutputQuery {
    /// Lines before this sequence number, from the log on disk (scrolling back). Without it,
    /// the tail kept in memory.
    before: Option<u64>,
    /// Lines in the page: 1000 by default, at most 5000.
    count: Option<usize>,
}

/// A page of a task's output.
///
/// Without `before`: the newest lines (the in-memory tail), and `next_seq` says where the live `output` events of `GET /v1/events` go on. With `before`:
/// the `count` lines before it, read from the log on disk (lines read back from disk are all
/// tagged `stdout`). Follow `before` of each page to scroll back to the first line.
#[utoipa::path(get, path = "/v1/tasks/{id}/output", tag = "output", operation_id = "getOutput",
    params(("id" = u64, Path, description = "The task's id"), OutputQuery),
    responses(
        (status = 200, description = "A page of lines", body = OutputPage),
        (status = 400, description = "InvalidPath, InvalidQuery", body = ApiError),
        (status = 404, description = "TaskNotFound", body = ApiError),
        (status = 500, description = "Io: the log cannot be read", body = ApiError)))]
pub(crate) async fn output(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    ApiQuery(query): ApiQuery<OutputQuery>,
) -> Result<Json<OutputPage>, ApiError> {
    let count = query
        .count
        .unwrap_or(DEFAULT_PAGE_LINES)
        .min(MAX_PAGE_LINES);
    // Both may read the log from disk.
    let supervisor = state.supervisor.clone();
    let page = super::blocking(move || {
        Ok(match query.before {
            Some(before) => OutputPage::new(supervisor.log_page(id, before, count)?, before),
            None => {
                let mut attached = supervisor.attach(id)?;
                let end = attached
                    .snapshot
                    .last()
                    .map_or(attached.record.line_count, |l| l.seq + 1);
                let skip = attached.snapshot.len().saturating_sub(count);
                OutputPage::new(attached.snapshot.split_off(skip), end)
            }
        })
    })
    .await?;
    Ok(Json(page))
}
