//! `GET /api/config`: what a client (the portal) needs to talk to the payment provider.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The route `/api/config`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(client_config))
}

/// Which provider the service talks to, and Stripe's publishable key for Stripe.js.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"mode": "sandbox", "stripe_publishable_key": null}))]
struct ClientConfigBody {
    /// `sandbox` (offline, Stripe's test mode imitated) or `stripe`.
    #[schema(pattern = "^(sandbox|stripe)$")]
    mode: &'static str,
    stripe_publishable_key: Option<String>,
}

/// What a client needs to talk to the payment provider.
#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "The mode and publishable key", body = ClientConfigBody)))]
async fn client_config(State(state): State<AppState>) -> Json<ClientConfigBody> {
    Json(ClientConfigBody {
        mode: if state.sandbox.is_some() {
            "sandbox"
        } else {
            "stripe"
        },
        stripe_publishable_key: state.stripe_publishable_key.clone(),
    })
}
