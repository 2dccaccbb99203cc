//! Snapshot rows on PostgreSQL: the SQLite store's `snapshots` (which says which aggregates
//! keep one and why), in PostgreSQL's dialect. A snapshot is a cache: one that is missing or
//! no longer reads is passed over for a full replay.

use cqrs_es::persist::SerializedSnapshot;
use sqlx::{PgConnection, PgPool, Row};

use crate::store::snapshots::decode;

/// Replaces `(aggregate_type, aggregate_id)`'s snapshot, in the transaction that appends the
/// events it follows (after them, so it is newer than whatever row was there).
pub async fn upsert(
    conn: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    last_sequence: i64,
    current_snapshot: i64,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
            SET last_sequence = excluded.last_sequence,
                current_snapshot = excluded.current_snapshot,
                payload = excluded.payload",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(last_sequence)
    .bind(current_snapshot)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(aggregate_type, aggregate_id)`'s snapshot, if it has a readable one.
pub async fn find(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<SerializedSnapshot>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT last_sequence, current_snapshot, payload FROM snapshots
          WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(decode(
        aggregate_type,
        aggregate_id,
        row.try_get("last_sequence")?,
        row.try_get("current_snapshot")?,
        &row.try_get::<String, _>("payload")?,
    ))
}
