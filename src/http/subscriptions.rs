//! `/api/subscriptions`: subscribe to a plan, read, cancel, resume, change plan.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::{SubscriptionRow, Subscriptions};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{AuthenticatedCustomer, IdempotencyKey, RequestId};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::usecases::subscriptions::SubscribeRequest;

/// The routes under `/api/subscriptions`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{subscription_id}", get(show))
        .route("/{subscription_id}/cancel", post(cancel))
        .route("/{subscription_id}/resume", post(resume))
        .route("/{subscription_id}/change-plan", post(change_plan))
}

/// A subscription as the API shows it. Times are RFC 3339.
#[derive(Serialize)]
pub struct SubscriptionBody {
    subscription_id: String,
    stripe_subscription_id: String,
    plan: Option<String>,
    status: String,
    amount: Option<i64>,
    currency: Option<String>,
    interval: Option<String>,
    trial_end: Option<String>,
    current_period_start: Option<String>,
    current_period_end: Option<String>,
    cancel_at_period_end: bool,
    canceled_at: Option<String>,
    ended_at: Option<String>,
    created_at: String,
}

impl From<SubscriptionRow> for SubscriptionBody {
    fn from(row: SubscriptionRow) -> Self {
        Self {
            subscription_id: row.subscription_id,
            stripe_subscription_id: row.stripe_subscription_id,
            plan: row.plan,
            status: row.status,
            amount: row.amount,
            currency: row.currency,
            interval: row.interval,
            trial_end: row.trial_end,
            current_period_start: row.current_period_start,
            current_period_end: row.current_period_end,
            cancel_at_period_end: row.cancel_at_period_end,
            canceled_at: row.canceled_at,
            ended_at: row.ended_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Serialize)]
struct ListBody {
    data: Vec<SubscriptionBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    plan: String,
    #[serde(default)]
    payment_method: Option<String>,
    #[serde(default)]
    trial_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    #[serde(default)]
    at_period_end: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePlanRequest {
    plan: String,
}

async fn create(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<SubscriptionBody>), ApiError> {
    let row = state
        .subscriptions
        .subscribe(
            &auth.customer_id,
            SubscribeRequest {
                plan: body.plan,
                payment_method: body.payment_method,
                trial_days: body.trial_days,
                idempotency_key,
            },
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
) -> Result<Json<ListBody>, ApiError> {
    let rows = Subscriptions::for_customer(&state.pool, &auth.customer_id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(ListBody {
        data: rows.into_iter().map(SubscriptionBody::from).collect(),
    }))
}

async fn show(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(subscription_id): Path<String>,
) -> Result<Json<SubscriptionBody>, ApiError> {
    let row = state
        .subscriptions
        .owned(&auth.customer_id, &subscription_id)
        .await?;
    Ok(Json(row.into()))
}

async fn cancel(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(subscription_id): Path<String>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Json<SubscriptionBody>, ApiError> {
    let row = state
        .subscriptions
        .cancel(
            &auth.customer_id,
            &subscription_id,
            body.at_period_end,
            request_id.as_deref(),
        )
        .await?;
    Ok(Json(row.into()))
}

async fn resume(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(subscription_id): Path<String>,
) -> Result<Json<SubscriptionBody>, ApiError> {
    let row = state
        .subscriptions
        .resume(&auth.customer_id, &subscription_id, request_id.as_deref())
        .await?;
    Ok(Json(row.into()))
}

async fn change_plan(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(subscription_id): Path<String>,
    ApiJson(body): ApiJson<ChangePlanRequest>,
) -> Result<Json<SubscriptionBody>, ApiError> {
    let row = state
        .subscriptions
        .change_plan(
            &auth.customer_id,
            &subscription_id,
            &body.plan,
            request_id.as_deref(),
        )
        .await?;
    Ok(Json(row.into()))
}
