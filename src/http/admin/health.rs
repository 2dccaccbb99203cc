//! `GET /api/admin/projections`: how far behind the log each read model is, and its size.

use axum::extract::State;
use axum::Json;
use projections::ProjectionHealth;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::error::ApiError;
use super::super::AppState;
use super::Operator;
use crate::usecases::operators::projections::projection_health;

/// One table of a projection.
#[derive(Serialize, ToSchema)]
pub(super) struct TableBody {
    table: String,
    rows: i64,
}

/// Where one projection stands.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"name": "payments", "checkpoint": 1204, "lag_events": 0, "lag_seconds": 0, "rows": 311, "tables": [{"table": "payments", "rows": 311}], "rebuilt_at": null}))]
pub(super) struct ProjectionBody {
    name: String,
    /// The log position of the last event it applied.
    checkpoint: i64,
    /// Events committed that it has not applied (log head − checkpoint).
    lag_events: i64,
    /// Age in seconds of the oldest event it has not applied; 0 when caught up.
    lag_seconds: i64,
    /// Rows of all its tables.
    rows: i64,
    tables: Vec<TableBody>,
    /// When a full replay last rebuilt it (RFC 3339); null when none is recorded.
    rebuilt_at: Option<String>,
}

impl From<ProjectionHealth> for ProjectionBody {
    fn from(health: ProjectionHealth) -> Self {
        Self {
            name: health.name.to_owned(),
            checkpoint: health.checkpoint,
            lag_events: health.lag_events,
            lag_seconds: health.lag_seconds,
            rows: health.tables.iter().map(|table| table.rows).sum(),
            tables: health
                .tables
                .into_iter()
                .map(|table| TableBody {
                    table: table.table.to_owned(),
                    rows: table.rows,
                })
                .collect(),
            rebuilt_at: health.rebuilt_at,
        }
    }
}

/// The projections' health.
#[derive(Serialize, ToSchema)]
pub(super) struct ProjectionsBody {
    data: Vec<ProjectionBody>,
}

/// Every projection (read model, and the mailer that feeds on the log like one): checkpoint,
/// lag in events and seconds, rows, last rebuild.
#[utoipa::path(get, path = "/projections", tag = "admin", security(("operator_token" = [])),
    responses((status = 200, description = "Each projection's health", body = ProjectionsBody)))]
pub(super) async fn projections(
    _operator: Operator,
    State(state): State<AppState>,
) -> Result<Json<ProjectionsBody>, ApiError> {
    let report = projection_health(&state.projector).await?;
    Ok(Json(ProjectionsBody {
        data: report.into_iter().map(Into::into).collect(),
    }))
}
