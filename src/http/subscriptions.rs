//! `/api/subscriptions`: subscribe to a plan, read, cancel, resume, change plan.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use projections::{SubscriptionRow, Subscriptions};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthenticatedCustomer, IdempotencyKey, IdempotencyKeyHeader, RequestId};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::usecases::subscriptions::SubscribeRequest;

/// The routes under `/api/subscriptions`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(cancel))
        .routes(routes!(resume))
        .routes(routes!(change_plan))
}

/// A subscription as the API shows it. Times are RFC 3339; `status` is Stripe's.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"subscription_id": "5b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "stripe_subscription_id": "sub_1Q2w3E4r5T6y", "plan": "professionnel", "status": "trialing", "amount": 2990, "currency": "eur", "interval": "month", "trial_end": "2026-12-07T23:50:00Z", "current_period_start": "2026-11-23T23:50:00Z", "current_period_end": "2026-12-07T23:50:00Z", "cancel_at_period_end": false, "canceled_at": null, "ended_at": null, "created_at": "2026-11-23T23:50:00.000Z"}))]
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

/// The caller's subscriptions.
#[derive(Serialize, ToSchema)]
struct SubscriptionList {
    data: Vec<SubscriptionBody>,
}

/// A plan to subscribe to; `trial_days` (0–730) defaults to the plan's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "professionnel", "payment_method": "pm_card_visa"}))]
struct CreateRequest {
    plan: String,
    #[serde(default)]
    payment_method: Option<String>,
    #[serde(default)]
    trial_days: Option<i64>,
}

/// Now, or at the end of the current period.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"at_period_end": true}))]
struct CancelRequest {
    #[serde(default)]
    at_period_end: bool,
}

/// The plan to move to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "particulier"}))]
struct ChangePlanRequest {
    plan: String,
}

/// Subscribes the caller to a plan. With an `Idempotency-Key`, a retry returns the same
/// subscription.
#[utoipa::path(post, path = "/", tag = "subscriptions", security(("customer_token" = [])),
    params(IdempotencyKeyHeader), request_body = CreateRequest,
    responses(
        (status = 201, description = "The subscription", body = SubscriptionBody),
        (status = 409, description = "`already_subscribed`, `idempotency_key_reused` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
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

/// The caller's subscriptions.
#[utoipa::path(get, path = "/", tag = "subscriptions", security(("customer_token" = [])),
    responses((status = 200, description = "Every subscription of the caller", body = SubscriptionList)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
) -> Result<Json<SubscriptionList>, ApiError> {
    let rows = Subscriptions::for_customer(&state.pool, &auth.customer_id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(SubscriptionList {
        data: rows.into_iter().map(SubscriptionBody::from).collect(),
    }))
}

/// One of the caller's subscriptions; another customer's is 404.
#[utoipa::path(get, path = "/{subscription_id}", tag = "subscriptions", security(("customer_token" = [])),
    params(("subscription_id" = String, Path, description = "The subscription's id")),
    responses((status = 200, description = "The subscription", body = SubscriptionBody)))]
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

/// Cancels now, or at the end of the period. An ended subscription is 409.
#[utoipa::path(post, path = "/{subscription_id}/cancel", tag = "subscriptions", security(("customer_token" = [])),
    params(("subscription_id" = String, Path, description = "The subscription's id")),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The subscription", body = SubscriptionBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
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

/// Undoes a cancellation at period end (409 otherwise).
#[utoipa::path(post, path = "/{subscription_id}/resume", tag = "subscriptions", security(("customer_token" = [])),
    params(("subscription_id" = String, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
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

/// Moves to another plan, with Stripe's prorations.
#[utoipa::path(post, path = "/{subscription_id}/change-plan", tag = "subscriptions", security(("customer_token" = [])),
    params(("subscription_id" = String, Path, description = "The subscription's id")),
    request_body = ChangePlanRequest,
    responses(
        (status = 200, description = "The subscription", body = SubscriptionBody),
        (status = 409, description = "`invalid_state`, `already_subscribed` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
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
