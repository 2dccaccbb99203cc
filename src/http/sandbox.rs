//! `/sandbox/*`: what a customer's bank would decide in Stripe's test mode. Mounted only when
//! the sandbox is the provider.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::provider::sandbox::test_payment_method;
use crate::provider::ProviderError;

/// The routes under `/sandbox`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/payment_intents/{payment_intent_id}/authenticate",
            post(authenticate),
        )
        .route("/payment_methods", post(create_payment_method))
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
struct PaymentMethodRequest {
    card: CardDetails,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardDetails {
    number: String,
    exp_month: u32,
    exp_year: i32,
    cvc: String,
}

/// A card error as Stripe's API answers Stripe.js: 402 with `type`, `code` and `param`.
fn card_error(code: &str, param: &str, message: &str) -> Response {
    let body =
        json!({"error": {"type": "card_error", "code": code, "param": param, "message": message}});
    (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response()
}

/// True when the digits pass the Luhn check every card number carries.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| match index % 2 {
            0 => digit,
            _ if digit * 2 > 9 => digit * 2 - 9,
            _ => digit * 2,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Turns a test card into a sandbox PaymentMethod id, as Stripe's API does for Stripe.js: the
/// portal's sandbox card form sends the card here (never to billstream's own API) and gives
/// billstream only the id. Checks the number (Luhn), a future expiry and a 3–4 digit CVC.
async fn create_payment_method(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PaymentMethodRequest>,
) -> Result<Response, ApiError> {
    state.sandbox.as_ref().ok_or(AppError::NotFound)?;
    let card = body.card;
    let digits: Vec<u32> = card
        .number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if !(12..=19).contains(&digits.len()) || !luhn(&digits) {
        return Ok(card_error(
            "incorrect_number",
            "number",
            "Your card number is incorrect.",
        ));
    }
    let today = chrono::Utc::now().date_naive();
    let year = if card.exp_year < 100 {
        2000 + card.exp_year
    } else {
        card.exp_year
    };
    let expired = (year, card.exp_month) < (today.year(), today.month());
    if !(1..=12).contains(&card.exp_month) || expired || year > today.year() + 50 {
        return Ok(card_error(
            "invalid_expiry",
            "exp",
            "Your card's expiration date is invalid.",
        ));
    }
    let cvc_ok = (3..=4).contains(&card.cvc.len()) && card.cvc.chars().all(|c| c.is_ascii_digit());
    if !cvc_ok {
        return Ok(card_error(
            "invalid_cvc",
            "cvc",
            "Your card's security code is invalid.",
        ));
    }
    let Some((id, brand, last4)) = test_payment_method(&card.number) else {
        return Ok(card_error(
            "card_declined",
            "number",
            "Your card was declined. Your request was in test mode, but used a non test card.",
        ));
    };
    Ok(Json(json!({
        "id": id,
        "object": "payment_method",
        "type": "card",
        "card": {"brand": brand, "last4": last4, "exp_month": card.exp_month, "exp_year": year},
    }))
    .into_response())
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
