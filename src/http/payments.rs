//! `/api/payments/*`: create an intent, confirm, refund, read, list.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use projections::{PaymentListed, PaymentRow};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthenticatedCustomer, IdempotencyKey, IdempotencyKeyHeader, RequestId};
use super::json::ApiJson;
use super::limits::Guarded;
use super::AppState;
use crate::error::AppError;
use crate::usecases::payments::{CreatedIntent, NewPayment};

/// The routes under `/api/payments`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_intent))
        .routes(routes!(confirm))
        .routes(routes!(history))
        .routes(routes!(show))
        .routes(routes!(refund))
}

/// A payment to collect. `amount` in minor units (whole units for zero-decimal currencies).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 2000, "currency": "eur", "description": "Order 1001", "metadata": {"order": "1001"}}))]
struct CreateIntentRequest {
    /// 1 to 99,999,999 minor units.
    amount: i64,
    /// Lower-case ISO 4217, from the supported list.
    currency: String,
    #[serde(default)]
    description: Option<String>,
    /// String keys and values (Stripe's metadata limits).
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

/// The intent to confirm and the payment method to charge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_intent_id": "pi_3Q1w2E3r4T5y6U7i", "payment_method": "pm_card_visa"}))]
struct ConfirmRequest {
    payment_intent_id: String,
    /// A PaymentMethod id (`pm_…`; the sandbox's test methods such as `pm_card_visa`).
    payment_method: String,
}

/// How much to refund; absent (or an empty body) refunds everything that remains.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 500}))]
struct RefundRequest {
    #[serde(default)]
    amount: Option<i64>,
}

/// A page of payments, newest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryParams {
    /// 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only payments in this status (`succeeded`, `failed`, `refunded`…).
    status: Option<String>,
}

// Borrowed from the row it is read from: a page of history writes each payment's JSON straight
// from SQLite's row, the stored JSON (metadata, the next action) copied as it is. (A `///`
// comment here would become the schema's public description.)
/// A payment as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"payment_id": "0b6f3c1e-1d2a-4a8e-9a0e-3c2b1a0f9e8d", "payment_intent_id": "pi_3Q1w2E3r4T5y6U7i", "amount": 2000, "currency": "eur", "status": "succeeded", "description": "Order 1001", "failure_code": null, "failure_message": null, "refunded_amount": 0, "metadata": {"order": "1001"}, "created_at": "2026-11-23T23:50:00.000Z", "updated_at": "2026-11-23T23:50:01.000Z"}))]
pub struct PaymentBody<'a> {
    payment_id: &'a str,
    payment_intent_id: &'a str,
    amount: i64,
    currency: &'a str,
    status: &'a str,
    description: Option<&'a str>,
    failure_code: Option<&'a str>,
    failure_message: Option<&'a str>,
    refunded_amount: i64,
    /// What the customer must do next (3-D Secure), while `requires_action`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    next_action: Option<&'a RawValue>,
    #[schema(value_type = Object)]
    metadata: &'a RawValue,
    created_at: &'a str,
    updated_at: &'a str,
}

impl<'a> From<PaymentListed<'a>> for PaymentBody<'a> {
    fn from(row: PaymentListed<'a>) -> Self {
        Self {
            payment_id: row.payment_id,
            payment_intent_id: row.payment_intent_id,
            amount: row.amount,
            currency: row.currency,
            status: row.status,
            description: row.description,
            failure_code: row.failure_code,
            failure_message: row.failure_message,
            refunded_amount: row.refunded_amount,
            next_action: row.next_action.and_then(stored_json),
            metadata: stored_json(row.metadata).unwrap_or(RawValue::NULL),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The view's JSON text as it is, if it is JSON (the view writes only JSON there).
fn stored_json(text: &str) -> Option<&RawValue> {
    serde_json::from_str(text).ok()
}

/// `row` as the API shows a payment.
fn payment_answer(row: &PaymentRow) -> Response {
    Json(PaymentBody::from(row.listed())).into_response()
}

/// The outcome of a confirmation: `succeeded`, `requires_action`, `failed` or `processing`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"payment_id": "0b6f3c1e-1d2a-4a8e-9a0e-3c2b1a0f9e8d", "status": "failed", "failure_code": "insufficient_funds", "failure_message": "Your card has insufficient funds."}))]
struct ConfirmBody<'a> {
    payment_id: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    next_action: Option<&'a RawValue>,
}

/// A payment intent, created.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"payment_id": "0b6f3c1e-1d2a-4a8e-9a0e-3c2b1a0f9e8d", "payment_intent_id": "pi_3Q1w2E3r4T5y6U7i", "client_secret": "pi_3Q1w2E3r4T5y6U7i_secret_aBcDeF", "status": "requires_payment_method", "amount": 2000, "currency": "eur"}))]
struct CreatedIntentBody {
    payment_id: String,
    payment_intent_id: String,
    /// For Stripe.js in the customer's browser; never logged.
    client_secret: String,
    status: String,
    amount: i64,
    currency: String,
}

impl From<CreatedIntent> for CreatedIntentBody {
    fn from(created: CreatedIntent) -> Self {
        Self {
            payment_id: created.payment_id,
            payment_intent_id: created.payment_intent_id,
            client_secret: created.client_secret,
            status: created.status,
            amount: created.amount,
            currency: created.currency,
        }
    }
}

// The schema of what `history` writes row by row: never built whole.
/// A page of payments.
#[derive(ToSchema)]
#[allow(dead_code)]
struct HistoryBody<'a> {
    data: Vec<PaymentBody<'a>>,
    next_cursor: Option<String>,
}

/// Creates a PaymentIntent for the caller. With an `Idempotency-Key`, the same key and body
/// answer the same response.
#[utoipa::path(post, path = "/create-intent", tag = "payments", security(("customer_token" = [])),
    params(IdempotencyKeyHeader), request_body = CreateIntentRequest,
    responses(
        (status = 201, description = "The intent", body = CreatedIntentBody),
        (status = 409, description = "`idempotency_key_reused` (another body under the key) or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn create_intent(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateIntentRequest>,
) -> Result<(StatusCode, Json<CreatedIntentBody>), ApiError> {
    state
        .limiters
        .check_account(Guarded::Payments, &auth.customer_id)?;
    let idempotency_key = idempotency_key.as_deref();
    let request = NewPayment {
        amount: body.amount,
        currency: body.currency,
        description: body.description,
        metadata: body.metadata,
    };
    let created = state
        .payments
        .create_intent(
            &auth.customer_id,
            request,
            idempotency_key,
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Confirms an intent with a payment method. A declined card answers 200 with `failed` and
/// its decline code; racing confirmations charge once.
#[utoipa::path(post, path = "/confirm", tag = "payments", security(("customer_token" = [])),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "The outcome", body = ConfirmBody),
        (status = 404, description = "`not_found`: no such intent of the caller's", body = ErrorBody),
        (status = 409, description = "`invalid_state` (already succeeded) or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn confirm(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Response, ApiError> {
    state
        .limiters
        .check_account(Guarded::Payments, &auth.customer_id)?;
    let row = state
        .payments
        .confirm(
            &auth.customer_id,
            &body.payment_intent_id,
            &body.payment_method,
            request_id.as_deref(),
        )
        .await?;
    let payment = PaymentBody::from(row.listed());
    Ok(Json(ConfirmBody {
        payment_id: payment.payment_id,
        status: payment.status,
        failure_code: payment.failure_code,
        failure_message: payment.failure_message,
        next_action: payment.next_action,
    })
    .into_response())
}

/// Refunds part or all of what remains of a captured payment (never more than captured).
#[utoipa::path(post, path = "/{payment_id}/refund", tag = "payments", security(("customer_token" = [])),
    params(("payment_id" = String, Path, description = "The payment's id"), IdempotencyKeyHeader),
    request_body(content = Option<RefundRequest>, description = "Optional: empty refunds everything that remains"),
    responses(
        (status = 200, description = "The payment, `partially_refunded` or `refunded`", body = PaymentBody),
        (status = 409, description = "`invalid_state` (nothing to refund) or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn refund(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(payment_id): Path<String>,
    super::json::ApiBytes(body): super::json::ApiBytes,
) -> Result<Response, ApiError> {
    // The body is optional: empty means "refund everything that remains".
    let amount = super::json::parse_optional_json::<RefundRequest>(&body)?.amount;
    let row = state
        .payments
        .refund(
            &auth.customer_id,
            &payment_id,
            amount,
            idempotency_key.as_deref(),
            request_id.as_deref(),
        )
        .await?;
    Ok(payment_answer(&row))
}

/// One of the caller's payments (refreshed from the provider while it awaits 3-D Secure or
/// processing). Another customer's payment is 404.
#[utoipa::path(get, path = "/{payment_id}", tag = "payments", security(("customer_token" = [])),
    params(("payment_id" = String, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment", body = PaymentBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn show(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(payment_id): Path<String>,
) -> Result<Response, ApiError> {
    let row = state.payments.get(&auth.customer_id, &payment_id).await?;
    Ok(payment_answer(&row))
}

/// The caller's payments, newest first.
#[utoipa::path(get, path = "/history", tag = "payments", security(("customer_token" = [])),
    params(HistoryParams),
    responses((status = 200, description = "A page of payments", body = HistoryBody)))]
async fn history(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Query(params): Query<HistoryParams>,
) -> Result<Response, ApiError> {
    let limit = parse_limit(params.limit.as_deref())?;
    // `HistoryBody`'s JSON, each payment written as its row is read.
    let mut body = Vec::with_capacity(PAGE_BYTES);
    body.extend_from_slice(br#"{"data":["#);
    let mut written = Ok(());
    let next_cursor = state
        .payments
        .history_each(
            &auth.customer_id,
            params.status.as_deref(),
            limit,
            params.cursor.as_deref(),
            |row| {
                if body.last() != Some(&b'[') {
                    body.push(b',');
                }
                if written.is_ok() {
                    written = serde_json::to_writer(&mut body, &PaymentBody::from(row));
                }
            },
        )
        .await?;
    body.extend_from_slice(br#"],"next_cursor":"#);
    written
        .and_then(|()| serde_json::to_writer(&mut body, &next_cursor))
        .map_err(AppError::internal)?;
    body.push(b'}');
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

/// Room for a default page of history (20 payments of ~400 bytes) without a reallocation.
const PAGE_BYTES: usize = 8 * 1024;

/// The `limit` query parameter, if given, as an integer (its range is checked by the service).
pub(super) fn parse_limit(raw: Option<&str>) -> Result<Option<i64>, aggregates::ValidationError> {
    raw.map(|raw| {
        raw.parse::<i64>().map_err(|_| {
            aggregates::ValidationError::new("limit", "must be an integer from 1 to 100")
        })
    })
    .transpose()
}
