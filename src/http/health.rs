//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::error::AppError;

/// The routes `/health` and `/ready`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// The service's state.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
struct StatusBody {
    /// `ok` (health) or `ready` (readiness).
    status: &'static str,
}

/// The process answers.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, description = "Alive", body = StatusBody)))]
async fn health() -> Json<StatusBody> {
    Json(StatusBody { status: "ok" })
}

/// How long `/ready` waits for the shared database before it calls the node not ready.
const SHARED_LOG_CHECK: Duration = Duration::from_secs(2);

/// The database answers and every projection has applied the whole log; on PostgreSQL, the
/// database the nodes share answers too (a node cut off from it can take no command).
#[utoipa::path(get, path = "/ready", tag = "service",
    responses(
        (status = 200, description = "Ready", body = StatusBody, example = json!({"status": "ready"})),
        (status = 503, description = "`not_ready`: read models are catching up, or the shared database does not answer", body = ErrorBody),
    ))]
async fn ready(State(state): State<AppState>) -> Result<Json<StatusBody>, ApiError> {
    if let Some(shared) = &state.shared_log {
        let answered = tokio::time::timeout(
            SHARED_LOG_CHECK,
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(shared),
        )
        .await;
        if !matches!(answered, Ok(Ok(1))) {
            tracing::warn!("not ready: the shared PostgreSQL database does not answer");
            return Err(ApiError::NotReady);
        }
    }
    match state.projector.is_caught_up().await {
        Ok(true) => Ok(Json(StatusBody { status: "ready" })),
        Ok(false) => Err(ApiError::NotReady),
        Err(error) => Err(AppError::internal(error).into()),
    }
}
