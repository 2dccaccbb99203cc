//! `/sandbox/*`: what a customer's bank would decide in Stripe's test mode. Mounted only when
//! the sandbox is the provider.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::provider::ProviderError;

/// The routes under `/sandbox`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/payment_intents/{payment_intent_id}/authenticate",
            post(authenticate),
        )
        .route("/clock", axum::routing::get(clock))
        .route("/clock/advance", post(advance_clock))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    seconds: i64,
}

/// Longest single advance: ten years.
const MAX_ADVANCE_SECONDS: i64 = 10 * 366 * 86_400;

fn clock_body(now: i64, steps: Option<usize>) -> Value {
    let at = chrono::DateTime::from_timestamp(now, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let mut body = json!({"now": now, "now_iso": at});
    if let Some(steps) = steps {
        body["steps_run"] = json!(steps);
    }
    body
}

/// The sandbox clock's time.
async fn clock(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    let now = sandbox.clock_now().await.map_err(AppError::from)?;
    Ok(Json(clock_body(now, None)))
}

/// Moves the sandbox clock forward and runs what falls due (trial ends, renewals, retries),
/// like advancing a Stripe test clock. Its webhooks are queued before this answers.
async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AdvanceRequest>,
) -> Result<Json<Value>, ApiError> {
    let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    if !(1..=MAX_ADVANCE_SECONDS).contains(&body.seconds) {
        return Err(aggregates::ValidationError::new(
            "seconds",
            format!("must be a whole number of seconds from 1 to {MAX_ADVANCE_SECONDS}"),
        )
        .into());
    }
    let advanced = sandbox
        .advance_clock(body.seconds)
        .await
        .map_err(AppError::from)?;
    Ok(Json(clock_body(advanced.now, Some(advanced.steps))))
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
            ProviderError::NoSuchPaymentIntent => AppError::NotFound,
            other => other.into(),
        })?;
    Ok(Json(json!({
        "id": intent.id,
        "status": intent.status.as_str(),
    })))
}
