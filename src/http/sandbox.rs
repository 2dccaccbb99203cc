//! `/sandbox/*`: what a customer's bank would decide in Stripe's test mode. Mounted only when
//! the sandbox is the gateway.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::gateway::GatewayError;

/// The routes under `/sandbox`.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/payment_intents/{payment_intent_id}/authenticate",
        post(authenticate),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthenticateRequest {
    success: bool,
}

/// Completes (or fails) a pending 3-D Secure challenge.
async fn authenticate(
    State(state): State<AppState>,
    Path(payment_intent_id): Path<String>,
    ApiJson(body): ApiJson<AuthenticateRequest>,
) -> Result<Json<Value>, ApiError> {
    let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    let intent = sandbox
        .authenticate_payment_intent(&payment_intent_id, body.success)
        .await
        .map_err(|error| match error {
            GatewayError::NoSuchPaymentIntent => AppError::NotFound,
            other => other.into(),
        })?;
    Ok(Json(json!({
        "id": intent.id,
        "status": intent.status.as_str(),
    })))
}
