//! `/admin` (the views' health: checkpoint, lag, rows, last rebuild, a Rebuild button per
//! view), `POST /admin/projections/{name}/rebuild` (starts the rebuild job through the same
//! use case as the API) and `/admin/jobs/{id}` (the job's progress: a small ES module follows
//! `/admin/jobs/{id}/status`; without scripts the page reloads itself until the job ends).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::access::Operator;
use super::ConsoleFrame;
use crate::http::AppState;
use crate::portal::page::redirect;
use crate::usecases::operators::projections::projection_health;
use crate::usecases::operators::rebuilds::{JobState, JobStatus, StartError};

/// One row of the status table.
pub struct ViewRow {
    name: &'static str,
    checkpoint: i64,
    lag_events: i64,
    lag_seconds: i64,
    rows: i64,
    rebuilt_at: String,
    /// A view (with tables) can be rebuilt; the mailer cannot (it would send again).
    rebuildable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/projections.html")]
pub struct StatusPage {
    f: ConsoleFrame,
    views: Vec<ViewRow>,
    message: String,
}

/// `GET /admin`.
pub async fn status(_operator: Operator, State(state): State<AppState>) -> Response {
    status_page(&state, StatusCode::OK, String::new()).await
}

async fn status_page(state: &AppState, code: StatusCode, message: String) -> Response {
    let health = match projection_health(&state.projector).await {
        Ok(health) => health,
        Err(error) => {
            tracing::error!(%error, "the console could not read the projections' health");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let rebuildable = state.projector.view_names();
    let views = health
        .into_iter()
        .map(|view| ViewRow {
            name: view.name,
            checkpoint: view.checkpoint,
            lag_events: view.lag_events,
            lag_seconds: view.lag_seconds,
            rows: view.tables.iter().map(|table| table.rows).sum(),
            rebuilt_at: view.rebuilt_at.unwrap_or_else(|| "never".to_owned()),
            rebuildable: rebuildable.contains(&view.name),
        })
        .collect();
    let page = StatusPage {
        f: ConsoleFrame::page("Projections", "/admin"),
        views,
        message,
    };
    (code, page).into_response()
}

/// `POST /admin/projections/{name}/rebuild`: starts the job and shows its progress page; a
/// rebuild of that view already running is said so on the status page.
pub async fn rebuild(
    _operator: Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    match state.rebuilds.start(&name) {
        Ok(job) => redirect(&format!("/admin/jobs/{}", job.id)),
        Err(StartError::UnknownView) => StatusCode::NOT_FOUND.into_response(),
        Err(running @ StartError::AlreadyRunning(_)) => {
            status_page(&state, StatusCode::CONFLICT, running.to_string()).await
        }
        Err(StartError::Claim(error)) => {
            tracing::error!(%error, view = %name, "a rebuild could not claim its view");
            let message = "The rebuild could not start; the server's log says why.".to_owned();
            status_page(&state, StatusCode::INTERNAL_SERVER_ERROR, message).await
        }
    }
}

/// Where a job stands, in words and figures, for the page and for its module.
#[derive(Serialize)]
pub struct JobView {
    projection: &'static str,
    /// `running`, `succeeded` or `failed`.
    state: &'static str,
    done: bool,
    position: i64,
    head: i64,
    /// What the page says under the progress bar.
    detail: String,
    status_url: String,
}

impl From<JobStatus> for JobView {
    fn from(job: JobStatus) -> Self {
        let (state, done, detail) = match &job.state {
            JobState::Running => (
                "running",
                false,
                format!(
                    "{} of {} events, {:.0} events/s",
                    job.position, job.head, job.events_per_second
                ),
            ),
            JobState::Succeeded(report) => (
                "succeeded",
                true,
                format!(
                    "{} events applied in {:.2} s; the swap held the lock {:.1} ms",
                    report.events,
                    report.elapsed.as_secs_f64(),
                    report.swap.as_secs_f64() * 1000.0
                ),
            ),
            JobState::Failed => (
                "failed",
                true,
                "The rebuild failed and the live view is untouched; the server log says why."
                    .to_owned(),
            ),
        };
        Self {
            projection: job.projection,
            state,
            done,
            position: job.position,
            head: job.head.max(job.position),
            detail,
            status_url: format!("/admin/jobs/{}/status", job.id),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/job.html")]
pub struct JobPage {
    f: ConsoleFrame,
    job: JobView,
}

/// `GET /admin/jobs/{id}`.
pub async fn job_page(
    _operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let Some(job) = state.rebuilds.status(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let job = JobView::from(job);
    let mut frame = ConsoleFrame::page(format!("Rebuild of {}", job.projection), "/admin");
    frame.refresh_without_js = !job.done;
    JobPage { f: frame, job }.into_response()
}

/// `GET /admin/jobs/{id}/status`: the same, as JSON for the page's module.
pub async fn job_status(
    _operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match state.rebuilds.status(&id) {
        Some(job) => Json(JobView::from(job)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
