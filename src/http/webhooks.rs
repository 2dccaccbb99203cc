//! `POST /api/webhooks/stripe`: verify, store, acknowledge. Processing happens afterwards.

use super::json::ApiBytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::error::AppError;
use crate::inbox::Stored;
use crate::provider::read_envelope;
use crate::provider::stripe::signature as webhook_signature;

/// The largest webhook body accepted (1 MiB).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

/// The routes under `/api/webhooks`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

/// The delivery is stored (or was already).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"received": true, "duplicate": false}))]
struct ReceivedBody {
    received: bool,
    /// The event was stored before: nothing more is done.
    duplicate: bool,
}

/// A Stripe event, as Stripe sends it.
#[derive(ToSchema)]
#[schema(example = json!({"id": "evt_1Q2w3E4r5T6y", "type": "payment_intent.succeeded", "created": 1795478400, "data": {"object": {"id": "pi_3Q1w2E3r4T5y6U7i", "object": "payment_intent"}}}))]
#[allow(dead_code)]
struct StripeEvent {
    id: String,
    #[schema(rename = "type")]
    event_type: String,
    created: i64,
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

/// Stripe's webhook: verifies `Stripe-Signature`, stores the event durably (once per Stripe
/// event id), then answers; the event is applied afterwards. Never rate-limited.
#[utoipa::path(post, path = "/stripe", tag = "webhooks", security(("stripe_signature" = [])),
    request_body(content = StripeEvent, description = "The event, signed (at most 1 MiB)"),
    responses(
        (status = 200, description = "Stored", body = ReceivedBody),
        (status = 400, description = "`invalid_signature` (missing, malformed, wrong or stale; nothing stored) or `invalid_event`", body = ErrorBody,
            example = json!({"error": {"code": "invalid_signature", "message": "the Stripe-Signature header is missing, malformed, wrong or outside the tolerance"}})),
    ))]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReceivedBody>, ApiError> {
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
    Ok(Json(ReceivedBody {
        received: true,
        duplicate: stored == Stored::Duplicate,
    }))
}
