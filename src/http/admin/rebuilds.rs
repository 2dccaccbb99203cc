//! `POST /api/admin/projections/{name}/rebuild` and `GET /api/admin/jobs/{id}`: a view rebuilt
//! beside the live one as a background job, and the job's progress and result.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::error::{ApiError, ErrorBody};
use super::super::AppState;
use super::Operator;
use crate::error::AppError;
use crate::usecases::operators::rebuilds::{JobState, JobStatus, StartError};

/// What a finished rebuild did.
#[derive(Serialize, ToSchema)]
pub(super) struct RebuildResultBody {
    /// Events applied to the rebuilt view.
    events: u64,
    /// The log position the view stood at when swapped in.
    position: i64,
    /// How long the swap held the write lock, milliseconds.
    swap_ms: f64,
    /// Events appended during the rebuild and applied by the swap.
    swap_events: u64,
    /// Wall time of the whole rebuild, seconds.
    seconds: f64,
}

/// A background job and where it stands.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "5f0c…", "kind": "rebuild", "projection": "payments", "state": "running", "position": 420000, "head": 1000012, "events_per_second": 61234.5, "started_at": "2026-11-30T20:00:00.000Z", "finished_at": null, "result": null, "error": null, "status_url": "/api/admin/jobs/5f0c…"}))]
pub(super) struct JobBody {
    id: String,
    /// Always `rebuild` for now.
    kind: &'static str,
    /// The view being rebuilt.
    projection: &'static str,
    /// `running`, `succeeded` or `failed`.
    state: &'static str,
    /// The log position the rebuilt view has reached, and the log's head when it got there.
    position: i64,
    head: i64,
    /// Events applied per second so far.
    events_per_second: f64,
    started_at: String,
    finished_at: Option<String>,
    /// Set once it succeeded.
    result: Option<RebuildResultBody>,
    /// Set once it failed (the server log says why; the live view is untouched).
    error: Option<&'static str>,
    /// Where to follow it.
    status_url: String,
}

impl From<JobStatus> for JobBody {
    fn from(job: JobStatus) -> Self {
        let (state, result, error) = match job.state {
            JobState::Running => ("running", None, None),
            JobState::Succeeded(report) => (
                "succeeded",
                Some(RebuildResultBody {
                    events: report.events,
                    position: report.position,
                    swap_ms: report.swap.as_secs_f64() * 1000.0,
                    swap_events: report.swap_events,
                    seconds: report.elapsed.as_secs_f64(),
                }),
                None,
            ),
            JobState::Failed => (
                "failed",
                None,
                Some("the rebuild failed and the live view is untouched; the server log says why"),
            ),
        };
        Self {
            id: job.id.to_string(),
            kind: "rebuild",
            projection: job.projection,
            state,
            position: job.position,
            head: job.head,
            events_per_second: job.events_per_second,
            started_at: job.started_at,
            finished_at: job.finished_at,
            result,
            error,
            status_url: format!("/api/admin/jobs/{}", job.id),
        }
    }
}

/// Starts rebuilding a view beside the live one (writes and reads go on; the rebuilt view is
/// swapped in by one short transaction). Answers at once with the job to follow.
#[utoipa::path(post, path = "/projections/{name}/rebuild", tag = "admin",
    security(("operator_token" = [])),
    params(("name" = String, Path, description = "The view: `customer_profiles`, `payments`, `subscriptions`, `invoices` or `pending_requests`")),
    responses(
        (status = 202, description = "Started; `Location` and `status_url` name the job", body = JobBody),
        (status = 404, description = "`not_found`: no view of that name", body = ErrorBody),
        (status = 409, description = "`rebuild_running`: a rebuild of this view runs already", body = ErrorBody),
    ))]
pub(super) async fn rebuild(
    _operator: Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, HeaderMap, Json<JobBody>), ApiError> {
    let job = state.rebuilds.start(&name).map_err(|error| match error {
        StartError::UnknownView => ApiError::App(AppError::NotFound),
        running @ StartError::AlreadyRunning(_) => ApiError::RebuildRunning(running.to_string()),
        StartError::Claim(error) => ApiError::App(AppError::internal(error)),
    })?;
    let body = JobBody::from(job);
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&body.status_url) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::ACCEPTED, headers, Json(body)))
}

/// A background job's state, progress and result (kept in the server's memory: a restart
/// forgets them).
#[utoipa::path(get, path = "/jobs/{id}", tag = "admin", security(("operator_token" = [])),
    params(("id" = String, Path, description = "The job's id, from its `status_url`")),
    responses(
        (status = 200, description = "The job", body = JobBody),
        (status = 404, description = "`not_found`: no such job in this server", body = ErrorBody),
    ))]
pub(super) async fn job(
    _operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    let job = state.rebuilds.status(&id).ok_or(AppError::NotFound)?;
    Ok(Json(job.into()))
}
