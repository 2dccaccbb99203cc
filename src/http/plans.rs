//! `GET /api/plans`: the public plan catalog.

use axum::extract::State;
use axum::Json;

use super::AppState;
use crate::usecases::plans::Plan;

/// `[{id, name, amount, currency, interval, trial_days, features}]`.
pub async fn list(State(state): State<AppState>) -> Json<Vec<Plan>> {
    Json(state.plans.plans().to_vec())
}
