//! `/api/billing/payment-method`: the card the caller's subscriptions and invoices are charged
//! to.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::AuthenticatedCustomer;
use super::json::ApiJson;
use super::AppState;

/// The routes under `/api/billing`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/payment-method", post(set_payment_method))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentMethodRequest {
    payment_method: String,
}

async fn set_payment_method(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    ApiJson(body): ApiJson<PaymentMethodRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .subscriptions
        .set_payment_method(&auth.customer_id, &body.payment_method)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
