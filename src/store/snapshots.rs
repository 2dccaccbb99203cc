//! Aggregate snapshots: which aggregates keep one, and how a snapshot row is read and written.
//!
//! Without snapshots an aggregate is rebuilt from all of its events for every command; with
//! one, the event store (`snapshot_store`) loads it and only the events after it. Streams
//! that grow with time (a customer over years, a subscription renewing every period) keep one;
//! streams with a bounded life (an invoice, a payment) do not need it. A snapshot is a cache:
//! the events stay the truth, the row may be deleted at any time, and one that no longer reads
//! (a later release changed the state's shape) is passed over for a full replay and
//! overwritten by the next command (`snapshot_store`).

use cqrs_es::persist::SerializedSnapshot;
use projections::{ProjectionError, Readers};
use rusqlite::OptionalExtension;
use serde_json::Value;

/// Events between snapshots. A command then reads its snapshot and fewer than this many events
/// after it — rows that cost microseconds each next to the command's own round trips and
/// commit, so a customer's thousandth command costs about what its tenth does — while a
/// snapshot, one more row written in the command's transaction, is taken once every hundred
/// events.
pub const SNAPSHOT_EVERY: usize = 100;

/// How often aggregate type `aggregate_type` is snapshotted (`None`: never).
pub fn snapshot_every(aggregate_type: &str) -> Option<usize> {
    match aggregate_type {
        // A customer's stream grows for as long as the account lives; a subscription's with
        // every renewal, plan change and Stripe update.
        "Customer" | "Subscription" => Some(SNAPSHOT_EVERY),
        _ => None,
    }
}

/// Replaces aggregate `(aggregate_type, aggregate_id)`'s snapshot. Called in the transaction
/// that appends the events it follows, after them: those appends succeeded, so this state is
/// newer than whatever row was there, which it overwrites (a row that no longer reads
/// included).
pub fn upsert(
    db: &rusqlite::Connection,
    aggregate_type: &str,
    aggregate_id: &str,
    last_sequence: i64,
    current_snapshot: i64,
    payload: &str,
) -> Result<(), rusqlite::Error> {
    db.prepare_cached(
        "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
            SET last_sequence = excluded.last_sequence,
                current_snapshot = excluded.current_snapshot,
                payload = excluded.payload",
    )?
    .execute(rusqlite::params![
        aggregate_type,
        aggregate_id,
        last_sequence,
        current_snapshot,
        payload
    ])?;
    Ok(())
}

/// Aggregate `(aggregate_type, aggregate_id)`'s snapshot, if it has a readable one. A row whose
/// payload is not JSON at all (or whose numbers are out of range) counts as none, so the
/// aggregate is replayed in full; JSON of another shape is cqrs-es's to pass over likewise.
pub async fn find(
    readers: &Readers,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<SerializedSnapshot>, ProjectionError> {
    let key = (aggregate_type.to_owned(), aggregate_id.to_owned());
    // Read from this thread on a reader's connection: a command's load is this and its events
    // after it.
    let row = readers
        .read(move |db| {
            db.prepare_cached(
                "SELECT last_sequence, current_snapshot, payload FROM snapshots
              WHERE aggregate_type = ?1 AND aggregate_id = ?2",
            )?
            .query_row(rusqlite::params![key.0, key.1], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .optional()
        })
        .await?;
    Ok(row.and_then(|(last_sequence, current_snapshot, payload)| {
        decode(
            aggregate_type,
            aggregate_id,
            last_sequence,
            current_snapshot,
            &payload,
        )
    }))
}

/// A snapshot row as cqrs-es's snapshot; `None` (and a warning) for one whose payload is not
/// JSON at all or whose numbers are out of range. Shared with PostgreSQL's store.
pub fn decode(
    aggregate_type: &str,
    aggregate_id: &str,
    last_sequence: i64,
    current_snapshot: i64,
    payload: &str,
) -> Option<SerializedSnapshot> {
    let read = serde_json::from_str::<Value>(payload)
        .ok()
        .zip(usize::try_from(last_sequence).ok())
        .zip(usize::try_from(current_snapshot).ok());
    match read {
        Some(((aggregate, current_sequence), current_snapshot)) => Some(SerializedSnapshot {
            aggregate_id: aggregate_id.to_owned(),
            aggregate,
            current_sequence,
            current_snapshot,
        }),
        None => {
            tracing::warn!(
                aggregate_type,
                aggregate_id,
                "unreadable snapshot passed over; the aggregate is replayed from its events"
            );
            None
        }
    }
}
