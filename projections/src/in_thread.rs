//! A batch of the log applied to the views from the calling thread, on the connection's own
//! SQLite handle.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every statement is a round trip
//! to it and back: with a statement or two per event, a replay paid a round trip per event and
//! spent its time in context switches, not in SQLite (BENCHMARKS.md's profiles). Here the
//! handle is locked once, one round trip, and the whole batch runs from the calling thread:
//! reading the events, then every view's statements, each prepared once and cached. It runs
//! inside the transaction the caller opened through sqlx on the same connection, so commit,
//! rollback and durability are sqlx's as before.
//!
//! Hot reads use the same door (`read`): a pooled connection's handle, locked once, runs the
//! query and hands its rows over directly instead of one message per row.

use std::sync::Arc;

use sqlx::{SqliteConnection, SqlitePool};

use crate::event_log::{StoredEvent, COLUMNS};
use crate::projector::Projection;
use crate::ProjectionError;

/// Prepared statements kept per locked handle: more than all the views' statements together.
const STATEMENT_CACHE: usize = 64;

/// Runs `query` on a pooled connection's SQLite handle from this thread: one round trip to take
/// the handle, none per row. For short reads: the calling thread runs the whole query.
pub async fn read<T>(
    pool: &SqlitePool,
    query: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> Result<T, ProjectionError> {
    let mut conn = pool.acquire().await?;
    on_handle(&mut conn, |db| Ok(query(db)?)).await
}

/// Runs `work` with rusqlite on `conn`'s SQLite handle, from this thread.
async fn on_handle<T>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> Result<T, ProjectionError>,
) -> Result<T, ProjectionError> {
    let mut locked = conn.lock_handle().await?;
    // SAFETY: `locked` keeps sqlx's worker off this handle until it drops; `db` borrows the
    // handle without owning it (it never closes it), and is dropped, with its cached
    // statements finalized, before `locked` is.
    let db = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }?;
    // Room for every view's statements and the log's read: with rusqlite's default of 16, a
    // batch mixing the views' events evicted statements still in use and prepared them again.
    db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let result = work(&db);
    drop(db);
    drop(locked);
    result
}

/// What one batch applies: every event after `after` (at most `limit`) to each view, then to
/// each consumer, in order; a projection skips the events at or below the checkpoint beside it.
pub(crate) struct Batch<'a> {
    pub(crate) views: &'a [(&'a Arc<dyn Projection>, i64)],
    pub(crate) consumers: &'a [(&'a Arc<dyn Projection>, i64)],
    pub(crate) after: i64,
    pub(crate) limit: i64,
}

/// Reads the batch's events and applies them to its views (their `statements`) and then to
/// its consumers (`apply_direct`, which read what the views just wrote); returns the events
/// read, for the consumers that apply them through sqlx.
pub(crate) async fn apply_batch(
    conn: &mut SqliteConnection,
    batch: Batch<'_>,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    on_handle(conn, |db| apply_on(db, &batch)).await
}

pub(crate) fn apply_on(
    db: &rusqlite::Connection,
    batch: &Batch<'_>,
) -> Result<Vec<StoredEvent>, ProjectionError> {
    let events = read_after(db, batch.after, batch.limit)?;
    let after = |checkpoint: i64| {
        events
            .iter()
            .filter(move |event| event.position > checkpoint)
    };
    for (view, checkpoint) in batch.views {
        for event in after(*checkpoint) {
            let statements = view
                .statements(event)
                .ok_or(ProjectionError::NotAView(view.name()))??;
            for statement in &statements {
                statement.execute_direct(db)?;
            }
        }
    }
    for (consumer, checkpoint) in batch.consumers {
        for event in after(*checkpoint) {
            consumer.apply_direct(db, event)?;
        }
    }
    Ok(events)
}

/// Up to `limit` events after `position`, in commit order (as `event_log::read_after`).
fn read_after(
    db: &rusqlite::Connection,
    position: i64,
    limit: i64,
) -> rusqlite::Result<Vec<StoredEvent>> {
    let mut statement = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE position > ?1 ORDER BY position LIMIT ?2"
    ))?;
    let rows = statement.query_map([position, limit], |row| {
        Ok(StoredEvent {
            position: row.get(0)?,
            aggregate_type: row.get(1)?,
            aggregate_id: row.get(2)?,
            sequence: row.get(3)?,
            event_type: row.get(4)?,
            event_version: row.get(5)?,
            payload: row.get(6)?,
            metadata: row.get(7)?,
            recorded_at: row.get(8)?,
        })
    })?;
    rows.collect()
}
