//! `POST /api/webhooks/stripe`: verify, store, acknowledge. Processing happens afterwards.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::error::AppError;
use crate::inbox::Stored;
use crate::provider::read_envelope;
use crate::provider::stripe::signature as webhook_signature;

/// The largest webhook body accepted (1 MiB).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

/// The routes under `/api/webhooks`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stripe", post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let header = headers
        .get(webhook_signature::HEADER)
        .and_then(|value| value.to_str().ok());
    let secrets: Vec<&str> = state.webhooks.secrets.iter().map(|s| s.expose()).collect();
    webhook_signature::verify(
        header,
        &body,
        &secrets,
        state.webhooks.tolerance_seconds,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|error| {
        tracing::warn!(%error, "webhook refused");
        ApiError::InvalidSignature
    })?;
    let event = read_envelope(&body).ok_or(ApiError::InvalidEvent)?;
    let stored = state
        .webhooks
        .inbox
        .store(&event, &body)
        .await
        .map_err(AppError::from)?;
    if stored == Stored::New {
        state.webhooks.wake.notify_one();
    }
    tracing::info!(event = %event.id, kind = %event.event_type, duplicate = (stored == Stored::Duplicate), "webhook stored");
    Ok(Json(json!({
        "received": true,
        "duplicate": stored == Stored::Duplicate,
    })))
}
