//! `/api/payments/*`: create an intent, confirm, refund, read, list.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::PaymentRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use super::extract::{AuthenticatedCustomer, IdempotencyKey, RequestId};
use super::json::ApiJson;
use super::AppState;
use crate::usecases::payments::{CreatedIntent, NewPayment};

/// The routes under `/api/payments`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/create-intent", post(create_intent))
        .route("/confirm", post(confirm))
        .route("/history", get(history))
        .route("/{payment_id}", get(show))
        .route("/{payment_id}/refund", post(refund))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateIntentRequest {
    amount: i64,
    currency: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    payment_intent_id: String,
    payment_method: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RefundRequest {
    #[serde(default)]
    amount: Option<i64>,
}

#[derive(Deserialize)]
struct HistoryParams {
    limit: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
}

/// A payment as the API shows it.
#[derive(Serialize)]
pub struct PaymentBody {
    payment_id: String,
    payment_intent_id: String,
    amount: i64,
    currency: String,
    status: String,
    description: Option<String>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    refunded_amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_action: Option<Value>,
    metadata: Value,
    created_at: String,
    updated_at: String,
}

impl From<PaymentRow> for PaymentBody {
    fn from(row: PaymentRow) -> Self {
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
            next_action: row
                .next_action
                .and_then(|action| serde_json::from_str(&action).ok()),
            metadata: serde_json::from_str(&row.metadata).unwrap_or(Value::Null),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Serialize)]
struct ConfirmBody {
    payment_id: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_action: Option<Value>,
}

#[derive(Serialize)]
struct HistoryBody {
    data: Vec<PaymentBody>,
    next_cursor: Option<String>,
}

async fn create_intent(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateIntentRequest>,
) -> Result<(StatusCode, Json<CreatedIntent>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(created)))
}

async fn confirm(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Json<ConfirmBody>, ApiError> {
    let row = state
        .payments
        .confirm(
            &auth.customer_id,
            &body.payment_intent_id,
            &body.payment_method,
            request_id.as_deref(),
        )
        .await?;
    let payment = PaymentBody::from(row);
    Ok(Json(ConfirmBody {
        payment_id: payment.payment_id,
        status: payment.status,
        failure_code: payment.failure_code,
        failure_message: payment.failure_message,
        next_action: payment.next_action,
    }))
}

async fn refund(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(payment_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<PaymentBody>, ApiError> {
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
    Ok(Json(row.into()))
}

async fn show(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(payment_id): Path<String>,
) -> Result<Json<PaymentBody>, ApiError> {
    let row = state.payments.get(&auth.customer_id, &payment_id).await?;
    Ok(Json(row.into()))
}

async fn history(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Query(params): Query<HistoryParams>,
) -> Result<Json<HistoryBody>, ApiError> {
    let limit = parse_limit(params.limit.as_deref())?;
    let page = state
        .payments
        .history(
            &auth.customer_id,
            params.status.as_deref(),
            limit,
            params.cursor.as_deref(),
        )
        .await?;
    Ok(Json(HistoryBody {
        data: page.data.into_iter().map(PaymentBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The `limit` query parameter, if given, as an integer (its range is checked by the service).
pub(super) fn parse_limit(raw: Option<&str>) -> Result<Option<i64>, aggregates::ValidationError> {
    raw.map(|raw| {
        raw.parse::<i64>().map_err(|_| {
            aggregates::ValidationError::new("limit", "must be an integer from 1 to 100")
        })
    })
    .transpose()
}
