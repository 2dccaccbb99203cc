//! `GET /api/plans`: the public plan catalog.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::usecases::plans::{Interval, Plan};

/// The route `/api/plans`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A plan one can subscribe to.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "particulier", "name": "Particulier", "amount": 990, "currency": "eur", "interval": "month", "trial_days": 0, "features": ["Invoices", "Payments"]}))]
struct PlanBody {
    id: String,
    name: String,
    /// Price per interval, in minor units of `currency`.
    amount: i64,
    currency: String,
    #[schema(inline)]
    interval: IntervalBody,
    trial_days: u32,
    features: Vec<String>,
}

/// How often a plan bills.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum IntervalBody {
    Month,
    Year,
}

impl From<Plan> for PlanBody {
    fn from(plan: Plan) -> Self {
        Self {
            id: plan.id,
            name: plan.name,
            amount: plan.amount,
            currency: plan.currency,
            interval: match plan.interval {
                Interval::Month => IntervalBody::Month,
                Interval::Year => IntervalBody::Year,
            },
            trial_days: plan.trial_days,
            features: plan.features,
        }
    }
}

/// The plan catalog: `particulier` and `professionnel` unless `PLANS_FILE` says otherwise.
#[utoipa::path(get, path = "/", tag = "plans",
    responses((status = 200, description = "Every plan", body = Vec<PlanBody>)))]
async fn list(State(state): State<AppState>) -> Json<Vec<PlanBody>> {
    Json(
        state
            .plans
            .plans()
            .iter()
            .cloned()
            .map(PlanBody::from)
            .collect(),
    )
}
