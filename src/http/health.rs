//! Liveness and readiness.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::error::AppError;

/// `GET /health`: the process answers.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: the database answers and every projection has applied the whole log.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.projector.is_caught_up().await {
        Ok(true) => Ok(Json(json!({ "status": "ready" }))),
        Ok(false) => Err(ApiError::NotReady),
        Err(error) => Err(AppError::internal(error).into()),
    }
}
