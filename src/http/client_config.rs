//! `GET /api/config`: what a client (the portal) needs to talk to the payment provider.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

/// `{mode: "sandbox"|"stripe", stripe_publishable_key}`.
pub async fn client_config(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "mode": if state.sandbox.is_some() { "sandbox" } else { "stripe" },
        "stripe_publishable_key": state.stripe_publishable_key.as_deref(),
    }))
}
