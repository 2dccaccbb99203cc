//! The event log for operators, a page at a time: events in commit order narrowed by
//! aggregate, event type and commit time, each with its one-line summary and its payload with
//! client secrets redacted.

use projections::{event_log, EventFilter};
use serde_json::Value;
use sqlx::SqlitePool;

use super::redact::redact_secrets;
use super::summary::summarize;
use crate::error::AppError;

/// One event of the log, as operators read it.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub position: i64,
    pub recorded_at: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub summary: String,
    /// The payload as JSON text, secrets redacted.
    pub payload: String,
}

/// A page of the log, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub next_after: Option<i64>,
}

/// Up to `limit` events matching `filter` after log position `after`.
pub async fn page(
    pool: &SqlitePool,
    filter: &EventFilter,
    after: i64,
    limit: i64,
) -> Result<LogPage, AppError> {
    let mut conn = pool.acquire().await?;
    // One more than asked, to know whether another page follows.
    let mut events = event_log::read(&mut conn, filter, after, limit + 1).await?;
    let next_after = super::cut_page(&mut events, limit, |last| last.position);
    let entries = events
        .iter()
        .map(|event| {
            let mut payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
            redact_secrets(&mut payload);
            LogEntry {
                position: event.position,
                recorded_at: event.recorded_at.clone(),
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                event_type: event.event_type.clone(),
                summary: summarize(event, None),
                payload: payload.to_string(),
            }
        })
        .collect();
    Ok(LogPage {
        entries,
        next_after,
    })
}
