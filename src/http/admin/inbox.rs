//! `/api/admin/inbox*`: the stored Stripe events, one in full, and an operator's retry.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::super::error::{ApiError, ErrorBody};
use super::super::AppState;
use super::{query, Operator};
use crate::inbox::{InboxEntry, InboxRecord, InboxStatus, Retry};
use crate::usecases::operators::inbox;
use crate::usecases::operators::redact::redact_secrets;

/// A page of stored events.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InboxParams {
    /// Only events in this status: `pending` (waiting, or failed and waiting for its next
    /// attempt — `last_error` says why), `applied`, `ignored`, `unknown_customer`, `parked`
    /// (failed too often; waits for an operator's retry).
    #[param(value_type = Option<String>, pattern = "^(pending|applied|ignored|unknown_customer|parked)$")]
    status: Option<String>,
    /// Only events after this arrival number: the previous page's `next_after` (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    after: Option<String>,
    /// 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// A stored Stripe event, without its body.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"seq": 12, "event_id": "evt_1QxYz", "type": "charge.refunded", "object_id": "ch_3Q1w", "created": 1764583200, "status": "parked", "attempts": 8, "last_error": "the object this event is about is not recorded yet", "received_at": "2026-12-01T10:00:00.123456+00:00"}))]
pub(super) struct InboxEntryBody {
    /// Arrival number.
    seq: i64,
    event_id: String,
    /// Stripe's event type.
    #[serde(rename = "type")]
    kind: String,
    /// The Stripe object it is about.
    object_id: Option<String>,
    /// Stripe's clock (Unix seconds).
    created: i64,
    status: String,
    /// Failed attempts since it was last queued (a success also counts one).
    attempts: i64,
    last_error: Option<String>,
    /// When it arrived (RFC 3339).
    received_at: String,
}

impl From<InboxEntry> for InboxEntryBody {
    fn from(entry: InboxEntry) -> Self {
        Self {
            seq: entry.seq,
            event_id: entry.event_id,
            kind: entry.kind,
            object_id: entry.object_id,
            created: entry.created,
            status: entry.status,
            attempts: entry.attempts,
            last_error: entry.last_error,
            received_at: entry.received_at,
        }
    }
}

/// A page of stored events, in arrival order.
#[derive(Serialize, ToSchema)]
pub(super) struct InboxListBody {
    data: Vec<InboxEntryBody>,
    /// Pass as `after` for the next page; null on the last page.
    next_after: Option<i64>,
}

/// A stored Stripe event in full.
#[derive(Serialize, ToSchema)]
pub(super) struct InboxEventBody {
    #[serde(flatten)]
    entry: InboxEntryBody,
    object_type: Option<String>,
    livemode: bool,
    /// When the worker tries it next (RFC 3339), while it is pending after a failure; null
    /// when it is due at once or not pending.
    next_attempt_at: Option<String>,
    /// When it was last applied, ignored or marked (RFC 3339).
    processed_at: Option<String>,
    /// The event as Stripe delivered it, client secrets redacted.
    #[schema(value_type = Object)]
    payload: Value,
}

impl From<InboxRecord> for InboxEventBody {
    fn from(record: InboxRecord) -> Self {
        let mut payload = serde_json::from_str(&record.entry.payload)
            .unwrap_or_else(|_| Value::String(record.entry.payload.clone()));
        redact_secrets(&mut payload);
        // 0 means due at once (new, or queued again by an operator).
        let scheduled =
            record.entry.status == InboxStatus::Pending.as_str() && record.next_attempt_at > 0;
        let next_attempt_at = scheduled
            .then(|| Utc.timestamp_millis_opt(record.next_attempt_at).single())
            .flatten()
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        Self {
            object_type: record.object_type,
            livemode: record.livemode,
            next_attempt_at,
            processed_at: record.processed_at,
            payload,
            entry: record.entry.into(),
        }
    }
}

fn status(raw: Option<&str>) -> Result<Option<InboxStatus>, ApiError> {
    raw.map(|raw| {
        InboxStatus::parse(raw).ok_or_else(|| ApiError::InvalidQuery {
            message: "status: must be one of pending, applied, ignored, unknown_customer, parked"
                .into(),
        })
    })
    .transpose()
}

/// Stored Stripe events in arrival order, optionally in one status.
#[utoipa::path(get, path = "/inbox", tag = "admin", security(("operator_token" = [])),
    params(InboxParams),
    responses((status = 200, description = "A page of stored events", body = InboxListBody)))]
pub(super) async fn list(
    _operator: Operator,
    State(state): State<AppState>,
    Query(params): Query<InboxParams>,
) -> Result<Json<InboxListBody>, ApiError> {
    let status = status(params.status.as_deref())?;
    let after = query::after(params.after.as_deref())?;
    let limit = query::limit(params.limit.as_deref())?;
    let page = inbox::list(&state.webhooks.inbox, status, after, limit).await?;
    Ok(Json(InboxListBody {
        data: page.entries.into_iter().map(Into::into).collect(),
        next_after: page.next_after,
    }))
}

/// One stored Stripe event: its payload, status, attempts, last error and times.
#[utoipa::path(get, path = "/inbox/{event_id}", tag = "admin", security(("operator_token" = [])),
    params(("event_id" = String, Path, description = "The Stripe event id (`evt_…`)")),
    responses((status = 200, description = "The stored event", body = InboxEventBody)))]
pub(super) async fn show(
    _operator: Operator,
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<Json<InboxEventBody>, ApiError> {
    let record = inbox::show(&state.webhooks.inbox, &event_id).await?;
    Ok(Json(record.into()))
}

/// Queues a stored event again (parked, failing, ignored or of a then-unknown customer): the
/// worker applies it within a moment, and a Stripe event changes billstream at most once.
#[utoipa::path(post, path = "/inbox/{event_id}/retry", tag = "admin",
    security(("operator_token" = [])),
    params(("event_id" = String, Path, description = "The Stripe event id (`evt_…`)")),
    responses(
        (status = 202, description = "Queued again; the event as it now stands", body = InboxEventBody),
        (status = 409, description = "`already_applied`: the event is applied; nothing to do", body = ErrorBody),
    ))]
pub(super) async fn retry(
    _operator: Operator,
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<(StatusCode, Json<InboxEventBody>), ApiError> {
    let intake = &state.webhooks;
    match inbox::retry(&intake.inbox, &intake.wake, &event_id).await? {
        Retry::AlreadyApplied => Err(ApiError::AlreadyApplied),
        Retry::Queued | Retry::Unknown => {
            let record = inbox::show(&intake.inbox, &event_id).await?;
            Ok((StatusCode::ACCEPTED, Json(record.into())))
        }
    }
}
