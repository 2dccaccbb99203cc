//! `/api/billing/payment-method`: the card the caller's subscriptions and invoices are charged
//! to.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::AuthenticatedCustomer;
use super::json::ApiJson;
use super::AppState;

/// The routes under `/api/billing`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_payment_method))
}

/// The card to charge from now on.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"payment_method": "pm_card_visa"}))]
#[serde(deny_unknown_fields)]
struct PaymentMethodRequest {
    payment_method: String,
}

/// Sets the card the caller's subscriptions and automatically collected invoices are
/// charged to.
#[utoipa::path(post, path = "/payment-method", tag = "billing", security(("customer_token" = [])),
    request_body = PaymentMethodRequest,
    responses(
        (status = 204, description = "Set"),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
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
