//! `/api/subscriptions`: the caller's subscriptions (fed by Stripe's events; creating and
//! changing them through the API comes with the billing cycle).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use projections::{SubscriptionRow, Subscriptions};
use serde::Serialize;

use super::error::ApiError;
use super::extract::AuthenticatedCustomer;
use super::AppState;
use crate::error::AppError;

/// The routes under `/api/subscriptions`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/{subscription_id}", get(show))
}

/// A subscription as the API shows it.
#[derive(Serialize)]
pub struct SubscriptionBody {
    subscription_id: String,
    stripe_subscription_id: String,
    plan: Option<String>,
    status: String,
    trial_end: Option<String>,
    current_period_start: Option<String>,
    current_period_end: Option<String>,
    cancel_at_period_end: bool,
    created_at: String,
}

impl From<SubscriptionRow> for SubscriptionBody {
    fn from(row: SubscriptionRow) -> Self {
        Self {
            subscription_id: row.subscription_id,
            stripe_subscription_id: row.stripe_subscription_id,
            plan: row.plan,
            status: row.status,
            trial_end: row.trial_end,
            current_period_start: row.current_period_start,
            current_period_end: row.current_period_end,
            cancel_at_period_end: row.cancel_at_period_end,
            created_at: row.created_at,
        }
    }
}

#[derive(Serialize)]
struct ListBody {
    data: Vec<SubscriptionBody>,
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
    let row = Subscriptions::find(&state.pool, &subscription_id)
        .await
        .map_err(AppError::from)?
        .filter(|row| row.customer_id == auth.customer_id)
        .ok_or(AppError::NotFound)?;
    Ok(Json(row.into()))
}
