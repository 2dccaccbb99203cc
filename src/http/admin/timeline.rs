//! `GET /api/admin/customers/{customer_id}/timeline`: a customer's story, from the log.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::error::ApiError;
use super::super::AppState;
use super::{query, Operator};
use crate::usecases::operators::timeline::{customer_timeline, TimelineEntry};

/// A page of a list read from the log (a timeline, the reconciliation runs).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TimelineParams {
    /// Only events after this log position: the previous page's `next_after` (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub(super) after: Option<String>,
    /// 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub(super) limit: Option<String>,
}

/// One event of the customer's aggregates.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"position": 7, "recorded_at": "2026-12-01T10:00:00.123Z", "aggregate_type": "Payment", "aggregate_id": "0b6f3c1e-1d2a-4a8e-9a0e-3c2b1a0f9e8d", "event_type": "PaymentSucceeded", "summary": "Payment of 20.00 EUR succeeded", "stripe_event_id": null, "request_id": "5a0c6e1e-8f55-4f7b-a1d6-0f1d1f5f3b2a"}))]
pub(super) struct TimelineEntryBody {
    /// The event's global log position (commit order).
    position: i64,
    /// When it was committed (RFC 3339, UTC).
    recorded_at: String,
    /// `Customer`, `Payment`, `Subscription` or `Invoice`.
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    /// One line for people; amounts formatted from their minor units.
    summary: String,
    /// The Stripe event whose webhook caused it, if one did.
    stripe_event_id: Option<String>,
    /// The `x-request-id` of the API request that caused it, if one did.
    request_id: Option<String>,
}

impl From<TimelineEntry> for TimelineEntryBody {
    fn from(entry: TimelineEntry) -> Self {
        Self {
            position: entry.position,
            recorded_at: entry.recorded_at,
            aggregate_type: entry.aggregate_type,
            aggregate_id: entry.aggregate_id,
            event_type: entry.event_type,
            summary: entry.summary,
            stripe_event_id: entry.stripe_event_id,
            request_id: entry.request_id,
        }
    }
}

/// A page of a customer's timeline, oldest first.
#[derive(Serialize, ToSchema)]
pub(super) struct TimelineBody {
    data: Vec<TimelineEntryBody>,
    /// Pass as `after` for the next page; null on the last page.
    next_after: Option<i64>,
}

/// Every event of a customer's aggregates (the customer, their payments, subscriptions and
/// invoices) in commit order, each with a one-line summary and its cause.
#[utoipa::path(get, path = "/customers/{customer_id}/timeline", tag = "admin",
    security(("operator_token" = [])),
    params(("customer_id" = String, Path, description = "The customer's id"), TimelineParams),
    responses((status = 200, description = "A page of the timeline", body = TimelineBody)))]
pub(super) async fn timeline(
    _operator: Operator,
    State(state): State<AppState>,
    Path(customer_id): Path<String>,
    Query(params): Query<TimelineParams>,
) -> Result<Json<TimelineBody>, ApiError> {
    let after = query::after(params.after.as_deref())?;
    let limit = query::limit(params.limit.as_deref())?;
    let page = customer_timeline(&state.pool, &customer_id, after, limit).await?;
    Ok(Json(TimelineBody {
        data: page.entries.into_iter().map(Into::into).collect(),
        next_after: page.next_after,
    }))
}
