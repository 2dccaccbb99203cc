//! The catch-up folded into a writer's transaction: after the group-commit writer has run a
//! batch of appends, and before it commits, the views and the in-thread consumers (the mailer)
//! apply the new events on the writer's own connection, with their checkpoints, in the same
//! transaction. An append is then acknowledged with the read models already showing it: the
//! command's own catch-up finds nothing to do, and a commit costs one fsync instead of two.
//!
//! Consumers that apply through sqlx are left to the projector's catch-up, under their own
//! checkpoints. The caller runs this behind a savepoint: a projection that fails is rolled back
//! and the appends still commit; the projector's next catch-up meets the failure again and
//! reports it, as it always has.

use std::sync::Arc;

use crate::in_thread::{apply_on, Batch};
use crate::projector::{is_view, runs_in_thread, Projection};
use crate::ProjectionError;

/// Applies the events after each in-thread projection's checkpoint, at most `batch_size` of
/// them, on `db`, inside the transaction its caller holds (which must hold SQLite's write lock,
/// as `BEGIN IMMEDIATE` does, so no other projector applies the same events); returns how many
/// events were read. One batch at most: a long backlog (views reset by a migration, a log
/// imported by another process) must not hold the writer's transaction, and every write waiting
/// behind it, for as long as it takes to apply; the projector's own catch-up takes the rest in
/// transactions of its own, as before.
pub fn catch_up_on(
    db: &rusqlite::Connection,
    projections: &[Arc<dyn Projection>],
    batch_size: i64,
) -> Result<u64, ProjectionError> {
    let in_thread: Vec<&Arc<dyn Projection>> = projections
        .iter()
        .filter(|projection| runs_in_thread(projection))
        .collect();
    if in_thread.is_empty() {
        return Ok(0);
    }
    let checkpoints = load_checkpoints(db, &in_thread)?;
    let from = checkpoints.iter().copied().min().unwrap_or(0);
    let (views, consumers): (Vec<_>, Vec<_>) = in_thread
        .iter()
        .copied()
        .zip(checkpoints)
        .partition(|(projection, _)| is_view(projection));
    let events = apply_on(
        db,
        &Batch {
            views: &views,
            consumers: &consumers,
            after: from,
            limit: batch_size,
        },
    )?;
    let Some(last) = events.last().map(|event| event.position) else {
        return Ok(0);
    };
    save_checkpoints(db, &in_thread, last)?;
    Ok(events.len() as u64)
}

/// Each projection's checkpoint, in the order given (0 when it has none).
fn load_checkpoints(
    db: &rusqlite::Connection,
    projections: &[&Arc<dyn Projection>],
) -> rusqlite::Result<Vec<i64>> {
    let mut statement =
        db.prepare_cached("SELECT position FROM projection_checkpoints WHERE projection = ?1")?;
    projections
        .iter()
        .map(|projection| {
            statement
                .query_row([projection.name()], |row| row.get(0))
                .or_else(|error| match error {
                    rusqlite::Error::QueryReturnedNoRows => Ok(0),
                    other => Err(other),
                })
        })
        .collect()
}

fn save_checkpoints(
    db: &rusqlite::Connection,
    projections: &[&Arc<dyn Projection>],
    position: i64,
) -> rusqlite::Result<()> {
    let mut statement = db.prepare_cached(
        "INSERT INTO projection_checkpoints (projection, position) VALUES (?1, ?2)
         ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
    )?;
    for projection in projections {
        statement.execute(rusqlite::params![projection.name(), position])?;
    }
    Ok(())
}
