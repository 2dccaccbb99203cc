//! `POST /sandbox/payment_methods`: a test card turned into a sandbox PaymentMethod id, as
//! Stripe's API does for Stripe.js. The portal's sandbox card form sends the card here (never to
//! billstream's own API) and gives billstream only the id, just as Elements would.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::provider::sandbox::test_payment_method;

/// The card as Stripe.js would send it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"card": {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}))]
pub(super) struct PaymentMethodRequest {
    card: CardDetails,
}

/// A card's number, expiry and security code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CardDetails {
    number: String,
    exp_month: u32,
    exp_year: i32,
    cvc: String,
}

/// The payment method, as Stripe answers Stripe.js.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "pm_card_visa", "object": "payment_method", "type": "card",
    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}}))]
pub(super) struct SandboxPaymentMethod {
    id: String,
    object: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    card: CardSummary,
}

/// What a payment method shows of its card.
#[derive(Serialize, ToSchema)]
struct CardSummary {
    brand: String,
    last4: String,
    exp_month: u32,
    exp_year: i32,
}

/// A card error as Stripe's API answers Stripe.js: 402 with `type`, `code` and `param`.
#[derive(Serialize, ToSchema)]
pub(super) struct CardErrorBody {
    error: CardError,
}

/// Which field is wrong, and why.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"type": "card_error", "code": "incorrect_number", "param": "number",
    "message": "Your card number is incorrect."}))]
struct CardError {
    #[serde(rename = "type")]
    kind: &'static str,
    code: &'static str,
    param: &'static str,
    message: &'static str,
}

fn card_error(code: &'static str, param: &'static str, message: &'static str) -> Response {
    let error = CardError {
        kind: "card_error",
        code,
        param,
        message,
    };
    (StatusCode::PAYMENT_REQUIRED, Json(CardErrorBody { error })).into_response()
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

/// Turns a test card into a sandbox PaymentMethod id. Checks the number (Luhn), a future expiry
/// and a 3–4 digit CVC, then accepts only the sandbox's test cards.
#[utoipa::path(post, path = "/payment_methods", tag = "sandbox",
    request_body = PaymentMethodRequest,
    responses(
        (status = 200, description = "The payment method", body = SandboxPaymentMethod),
        (status = 402, description = "`card_error`: a wrong number, expiry or CVC, or not a test card", body = CardErrorBody),
    ))]
pub(super) async fn create_payment_method(
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
    let year = if (0..100).contains(&card.exp_year) {
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
    Ok(Json(SandboxPaymentMethod {
        id: id.to_string(),
        object: "payment_method",
        kind: "card",
        card: CardSummary {
            brand: brand.to_string(),
            last4: last4.to_string(),
            exp_month: card.exp_month,
            exp_year: year,
        },
    })
    .into_response())
}
