//! The whole log in its global order: what a projector, an export or a migration reads, a page
//! of events after a position at a time.
//!
//! Positions are taken one appending transaction after another and each commits before the
//! next takes any (`event_repository`), so "the events after N" read at any moment is a prefix
//! of everything that will ever follow N: a reader that resumes from the last position it saw
//! never skips an event.

use serde_json::Value;
use sqlx::{PgPool, Row};

/// One event with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Its global position: 1, 2, 3 … with no gap.
    pub position: i64,
    /// Its aggregate's type and id, and its sequence in that aggregate's stream.
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    /// Its type and version, and its payload as stored.
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// When its appending transaction recorded it, in UTC as SQLite's log writes it
    /// (`2026-12-01T11:34:47.123Z`).
    pub recorded_at: String,
}

/// Up to `limit` events after position `after`, in order.
pub async fn read_after(
    pool: &PgPool,
    after: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version,
                payload, metadata,
                to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at
           FROM events WHERE position > $1 ORDER BY position LIMIT $2"#,
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(LoggedEvent {
                position: row.try_get("position")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                sequence: row.try_get("sequence")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
                metadata: row.try_get("metadata")?,
                recorded_at: row.try_get("recorded_at")?,
            })
        })
        .collect()
}

/// The last position given out (0 for an empty log).
pub async fn head(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT last_position FROM event_log_head")
        .fetch_one(pool)
        .await
}
