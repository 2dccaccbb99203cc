//! `GET /api/admin/reconciliations`: the reconciliation runs recorded in the log, each with
//! the provider events it fed into the webhook inbox.

use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::error::ApiError;
use super::super::AppState;
use super::timeline::TimelineParams;
use super::{query, Operator};
use crate::usecases::operators::reconciliations::{self, RunRecord};

/// A provider event fed into the inbox.
#[derive(Serialize, ToSchema)]
pub(super) struct RepairBody {
    stripe_event_id: String,
    /// The provider's event type.
    #[serde(rename = "type")]
    kind: String,
}

/// One run.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"position": 42, "run_id": "8d1f0c52-5b7e-4f59-9a55-3f1c7b0f2a11", "recorded_at": "2026-12-01T10:00:00.123Z", "since": "2026-11-01T10:00:00Z", "until": "2026-12-01T10:00:00Z", "listed": 120, "missing": 1, "repaired": [{"stripe_event_id": "evt_1QxYz", "type": "payment_intent.succeeded"}]}))]
pub(super) struct RunBody {
    /// The log position of the run's `ReconciliationRun` event.
    position: i64,
    run_id: String,
    /// When it was recorded (RFC 3339, UTC).
    recorded_at: String,
    /// The window compared: the provider's events created from `since` to `until`.
    since: String,
    until: String,
    /// Events the provider listed in the window.
    listed: u64,
    /// Listed events the inbox had never received.
    missing: u64,
    /// The missing events this run fed into the inbox (the others arrived meanwhile).
    repaired: Vec<RepairBody>,
}

impl From<RunRecord> for RunBody {
    fn from(run: RunRecord) -> Self {
        let time = |time: chrono::DateTime<chrono::Utc>| {
            time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        Self {
            position: run.position,
            run_id: run.run_id,
            recorded_at: run.recorded_at,
            since: time(run.since),
            until: time(run.until),
            listed: run.listed,
            missing: run.missing,
            repaired: run
                .repaired
                .into_iter()
                .map(|event| RepairBody {
                    stripe_event_id: event.stripe_event_id,
                    kind: event.event_type,
                })
                .collect(),
        }
    }
}

/// A page of runs, oldest first.
#[derive(Serialize, ToSchema)]
pub(super) struct RunsBody {
    data: Vec<RunBody>,
    /// Pass as `after` for the next page; null on the last page.
    next_after: Option<i64>,
}

/// The reconciliation runs (`billstream reconcile`, or the server's scheduled run), oldest
/// first; dry runs change nothing and are not recorded.
#[utoipa::path(get, path = "/reconciliations", tag = "admin",
    security(("operator_token" = [])),
    params(TimelineParams),
    responses((status = 200, description = "A page of runs", body = RunsBody)))]
pub(super) async fn list(
    _operator: Operator,
    State(state): State<AppState>,
    Query(params): Query<TimelineParams>,
) -> Result<Json<RunsBody>, ApiError> {
    let after = query::after(params.after.as_deref())?;
    let limit = query::limit(params.limit.as_deref())?;
    let page = reconciliations::list(&state.pool, after, limit).await?;
    Ok(Json(RunsBody {
        data: page.runs.into_iter().map(Into::into).collect(),
        next_after: page.next_after,
    }))
}
