//! A customer's story: every event of their aggregates in commit order, each with a line for
//! people and its cause — the Stripe event a webhook delivered, or the API request that asked
//! for it (both recorded in the event's metadata by the use cases that ran the command).

use std::collections::HashMap;

use projections::customer_log::{self, CustomerEvent};
use sqlx::SqlitePool;

use super::summary::summarize;
use crate::error::AppError;

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub position: i64,
    pub recorded_at: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub summary: String,
    pub stripe_event_id: Option<String>,
    pub request_id: Option<String>,
}

/// A page of a timeline, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next_after: Option<i64>,
}

/// Up to `limit` events of customer `customer_id` after log position `after`; 404 when the
/// log has no such customer.
pub async fn customer_timeline(
    pool: &SqlitePool,
    customer_id: &str,
    after: i64,
    limit: i64,
) -> Result<TimelinePage, AppError> {
    // One read transaction: the existence check and the page see the same log.
    let mut tx = pool.begin().await?;
    if !customer_log::customer_exists(&mut tx, customer_id).await? {
        return Err(AppError::NotFound);
    }
    // One more than asked, to know whether another page follows.
    let mut events = customer_log::read(&mut tx, customer_id, after, limit + 1).await?;
    tx.commit().await?;
    let next_after = super::cut_page(&mut events, limit, |last| last.event.position);
    Ok(TimelinePage {
        entries: events.iter().map(entry).collect(),
        next_after,
    })
}

fn entry(row: &CustomerEvent) -> TimelineEntry {
    let event = &row.event;
    let metadata: HashMap<String, String> =
        serde_json::from_str(&event.metadata).unwrap_or_default();
    TimelineEntry {
        position: event.position,
        recorded_at: event.recorded_at.clone(),
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        event_type: event.event_type.clone(),
        summary: summarize(event, row.currency.as_deref()),
        stripe_event_id: metadata.get("stripe_event_id").cloned(),
        request_id: metadata.get("request_id").cloned(),
    }
}
