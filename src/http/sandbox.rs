//! `/sandbox/*`: what a customer's bank would decide in Stripe's test mode, and the sandbox's
//! test clock (the test cards' payment methods are in `sandbox_cards.rs`). They answer 404
//! unless the sandbox is the provider.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::provider::ProviderError;

/// The routes under `/sandbox`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authenticate))
        .routes(routes!(clock))
        .routes(routes!(advance_clock))
        .routes(routes!(super::sandbox_cards::create_payment_method))
}

/// How far to move the clock: 1 second to ten years.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"seconds": 86400}))]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    seconds: i64,
}

/// Longest single advance: ten years.
const MAX_ADVANCE_SECONDS: i64 = 10 * 366 * 86_400;

/// The sandbox clock.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"now": 1795478400, "now_iso": "2026-11-23T23:20:00Z", "steps_run": 2}))]
struct ClockBody {
    /// Unix seconds.
    now: i64,
    now_iso: Option<String>,
    /// How many due steps (trial ends, renewals, retries) the advance ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_run: Option<usize>,
}

fn clock_body(now: i64, steps: Option<usize>) -> ClockBody {
    ClockBody {
        now,
        now_iso: chrono::DateTime::from_timestamp(now, 0)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        steps_run: steps,
    }
}

/// The sandbox clock's time.
#[utoipa::path(get, path = "/clock", tag = "sandbox",
    responses((status = 200, description = "The clock", body = ClockBody)))]
async fn clock(State(state): State<AppState>) -> Result<Json<ClockBody>, ApiError> {
    let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    let now = sandbox.clock_now().await.map_err(AppError::from)?;
    Ok(Json(clock_body(now, None)))
}

/// Moves the sandbox clock forward and runs what falls due (trial ends, renewals, retries),
/// like advancing a Stripe test clock. Its webhooks are queued before this answers.
#[utoipa::path(post, path = "/clock/advance", tag = "sandbox", request_body = AdvanceRequest,
    responses((status = 200, description = "The clock after the advance", body = ClockBody)))]
async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AdvanceRequest>,
) -> Result<Json<ClockBody>, ApiError> {
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

/// The bank's decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"success": true}))]
struct AuthenticateRequest {
    success: bool,
}

/// The intent after the challenge.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "pi_3Q1w2E3r4T5y6U7i", "status": "succeeded"}))]
struct AuthenticatedBody {
    id: String,
    status: &'static str,
}

/// Completes (or fails) a pending 3-D Secure challenge.
#[utoipa::path(post, path = "/payment_intents/{payment_intent_id}/authenticate", tag = "sandbox",
    params(("payment_intent_id" = String, Path, description = "The PaymentIntent's id")),
    request_body = AuthenticateRequest,
    responses(
        (status = 200, description = "The intent", body = AuthenticatedBody),
        (status = 409, description = "`invalid_state`: no challenge is pending", body = ErrorBody),
    ))]
async fn authenticate(
    State(state): State<AppState>,
    Path(payment_intent_id): Path<String>,
    ApiJson(body): ApiJson<AuthenticateRequest>,
) -> Result<Json<AuthenticatedBody>, ApiError> {
    let sandbox = state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    let intent = sandbox
        .authenticate_payment_intent(&payment_intent_id, body.success)
        .await
        .map_err(|error| match error {
            ProviderError::NoSuchPaymentIntent => AppError::NotFound,
            other => other.into(),
        })?;
    Ok(Json(AuthenticatedBody {
        id: intent.id,
        status: intent.status.as_str(),
    }))
}
