//! `GET /api/admin/reconciliations`: the reconciliation runs recorded in the log, each with
//! the provider events it fed into the webhook inbox and the objects it brought forward to the
//! provider's state.

use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::error::ApiError;
use super::super::AppState;
use super::timeline::TimelineParams;
use super::{query, Operator};
use aggregates::reconciliation::ObjectDrift;

use crate::usecases::operators::reconciliations::{self, RunRecord};

/// A provider event fed into the inbox.
#[derive(Serialize, ToSchema)]
pub(super) struct RepairBody {
    stripe_event_id: String,
    /// The provider's event type.
    #[serde(rename = "type")]
    kind: String,
}

/// An object brought forward to the provider's state by its own aggregate.
#[derive(Serialize, ToSchema)]
pub(super) struct ObjectRepairBody {
    /// `payment_intent`, `subscription` or `invoice`.
    object: String,
    /// billstream's id of the payment, subscription or invoice.
    id: String,
    /// The provider's id (`pi_…`, `sub_…`, `in_…`).
    provider_id: String,
    /// Its status at billstream before the run.
    from_status: String,
    /// Its status at the provider, which billstream now holds.
    to_status: String,
}

impl From<ObjectDrift> for ObjectRepairBody {
    fn from(object: ObjectDrift) -> Self {
        Self {
            object: object.object,
            id: object.id,
            provider_id: object.provider_id,
            from_status: object.from_status,
            to_status: object.to_status,
        }
    }
}

/// One run.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"position": 42, "run_id": "8d1f0c52-5b7e-4f59-9a55-3f1c7b0f2a11", "recorded_at": "2026-12-01T10:00:00.123Z", "since": "2026-11-01T10:00:00Z", "until": "2026-12-01T10:00:00Z", "listed": 120, "missing": 1, "repaired": [{"stripe_event_id": "evt_1QxYz", "type": "payment_intent.succeeded"}], "objects_checked": 14, "objects_differing": 1, "objects_repaired": [{"object": "payment_intent", "id": "0f9c3a5e-2b1d-4c8e-9a7f-6d5e4c3b2a10", "provider_id": "pi_3QxYz", "from_status": "requires_action", "to_status": "succeeded"}]}))]
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
    /// Objects in a state that can still change (payments not final, subscriptions not
    /// ended, draft and open invoices) compared with the provider's; 0 for runs recorded
    /// before the object pass.
    objects_checked: u64,
    /// Compared objects billstream held behind the provider.
    objects_differing: u64,
    /// The differing objects this run brought forward (the others caught up meanwhile).
    objects_repaired: Vec<ObjectRepairBody>,
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
            objects_checked: run.objects_checked,
            objects_differing: run.objects_differing,
            objects_repaired: run.objects_repaired.into_iter().map(Into::into).collect(),
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
