//! Copies an event log into PostgreSQL's, in order, keeping every event's position, sequence,
//! payload and commit time: `billstream migrate-to` moves a SQLite database's log this way.
//!
//! Each page is one transaction that holds the log's head (as an append does), so the copy and
//! any other writer never interleave, and the claims (e-mails, numbers, plans) are made again
//! by the same trigger as the events land. A copy may be stopped at any moment and run again:
//! it goes on after the last event the target holds, once it has checked that the target's
//! log is the start of the source's. A target holding another log is refused, untouched.

use projections::StoredEvent;
use sqlx::PgPool;

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The target's log is not the start of the source's.
    #[error(
        "the target's event at position {position} differs from the source's: it holds another log"
    )]
    Diverged { position: i64 },
    /// A page does not follow the target's head (the source changed its history, or another
    /// writer appended to the target meanwhile).
    #[error("the events to copy start at position {first}, not after the target's {head}")]
    OutOfOrder { first: i64, head: i64 },
    /// PostgreSQL refused a statement.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The identity of the event at `position` in the target, if it holds one.
pub async fn identity_at(
    pool: &PgPool,
    position: i64,
) -> Result<Option<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT aggregate_type, aggregate_id, sequence FROM events WHERE position = $1")
        .bind(position)
        .fetch_optional(pool)
        .await
}

/// Checks that the target's event at `position` is `source`'s (same aggregate, same sequence).
pub async fn check_same(pool: &PgPool, source: &StoredEvent) -> Result<(), ImportError> {
    let target = identity_at(pool, source.position).await?;
    let same = target.is_some_and(|(aggregate_type, aggregate_id, sequence)| {
        aggregate_type == source.aggregate_type
            && aggregate_id == source.aggregate_id
            && sequence == source.sequence
    });
    if same {
        Ok(())
    } else {
        Err(ImportError::Diverged {
            position: source.position,
        })
    }
}

/// Appends `page` (consecutive events, the first right after the target's head) in one
/// transaction; returns the new head.
pub async fn append_page(pool: &PgPool, page: &[StoredEvent]) -> Result<i64, ImportError> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(super::log::head(pool).await?);
    };
    let mut tx = pool.begin().await?;
    let head: i64 = sqlx::query_scalar("SELECT last_position FROM event_log_head FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let consecutive = page
        .windows(2)
        .all(|pair| pair[1].position == pair[0].position + 1);
    if first.position != head + 1 || !consecutive {
        return Err(ImportError::OutOfOrder {
            first: first.position,
            head,
        });
    }
    let column = |read: fn(&StoredEvent) -> String| page.iter().map(read).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO events
           (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
            position, recorded_at)
         SELECT rows.aggregate_type, rows.aggregate_id, rows.sequence, rows.event_type,
                rows.event_version, rows.payload::jsonb, rows.metadata::jsonb, rows.position,
                rows.recorded_at::timestamptz
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::bigint[], $9::text[])
                AS rows (aggregate_type, aggregate_id, sequence, event_type, event_version,
                         payload, metadata, position, recorded_at)
          ORDER BY rows.position",
    )
    .bind(column(|event| event.aggregate_type.clone()))
    .bind(column(|event| event.aggregate_id.clone()))
    .bind(page.iter().map(|event| event.sequence).collect::<Vec<_>>())
    .bind(column(|event| event.event_type.clone()))
    .bind(column(|event| event.event_version.clone()))
    .bind(column(|event| event.payload.clone()))
    .bind(column(|event| event.metadata.clone()))
    .bind(page.iter().map(|event| event.position).collect::<Vec<_>>())
    .bind(column(|event| event.recorded_at.clone()))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE event_log_head SET last_position = $1")
        .bind(last.position)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(last.position)
}
