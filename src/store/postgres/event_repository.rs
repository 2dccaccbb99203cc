//! The event repository on PostgreSQL: cqrs-es's `PersistedEventRepository` over
//! `migrations/postgres/`'s `events` table.
//!
//! Appends go through the repository's group-commit writer (`group_commit`): the appends queued
//! at one moment share one transaction that holds `event_log_head` (locking that row until it
//! ends), inserts the commands' events at the positions after it, with the claims their
//! trigger makes and the snapshots they make due (in one statement, or each command in a
//! savepoint of its own when one of them lost its race), then commits. So positions are
//! gap-free and in commit order, and an append that fails leaves nothing behind, its positions
//! included.
//!
//! Errors: the next sequence of the aggregate already taken (`events_pkey`), a claim already
//! held (an e-mail, an invoice or credit-note number, a plan) and PostgreSQL's own
//! serialization failures are all a lost race: cqrs-es's conflict, as on SQLite. The use cases
//! tell a held claim from a lost race by reading the claim's table. Which constraint failed is
//! logged at debug level; the caller's data never is.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use super::group_commit::{Append, GroupCommit, Snapshot};
use super::snapshots;

/// PostgreSQL's SQLSTATEs for a lost race: a unique violation, a serialization failure, a
/// deadlock.
const LOST_RACE: [&str; 3] = ["23505", "40001", "40P01"];

/// The columns cqrs-es reads back, in `SerializedEvent`'s order.
const EVENT_COLUMNS: &str =
    "aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata";

/// Events buffered between the database and a replay's consumer.
const REPLAY_BUFFER: usize = 256;

/// The event repository of one node; any number of nodes may share the database.
#[derive(Clone)]
pub struct PgEventRepository {
    pool: PgPool,
    writer: GroupCommit,
}

impl PgEventRepository {
    /// Reads through `pool`, and appends through a group-commit writer of its own on it.
    pub fn new(pool: PgPool) -> Self {
        Self {
            writer: GroupCommit::start(pool.clone()),
            pool,
        }
    }

    async fn select(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
              ORDER BY sequence"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .fetch_all(&self.pool)
        .await
        .map_err(persistence_error)?;
        rows.iter().map(serialized_event).collect()
    }

    /// Streams `aggregate_type`'s events (of one aggregate, or all of them when `aggregate_id`
    /// is `None`) from a task of its own, in the global order.
    fn stream(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> ReplayStream {
        let (mut feed, stream) = ReplayStream::new(REPLAY_BUFFER);
        let pool = self.pool.clone();
        let aggregate_type = aggregate_type.to_owned();
        let aggregate_id = aggregate_id.map(str::to_owned);
        tokio::spawn(async move {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events
                  WHERE aggregate_type = $1 AND ($2::text IS NULL OR aggregate_id = $2)
                  ORDER BY position"
            );
            let mut rows = sqlx::query(&sql)
                .bind(&aggregate_type)
                .bind(&aggregate_id)
                .fetch(&pool);
            loop {
                let next = match rows.try_next().await {
                    Ok(Some(row)) => serialized_event(&row),
                    Ok(None) => return,
                    Err(error) => Err(persistence_error(error)),
                };
                let failed = next.is_err();
                // The consumer went away, or has been told the replay failed: stop reading.
                if feed.push(next).await.is_err() || failed {
                    return;
                }
            }
        });
        stream
    }
}

/// A row of `EVENT_COLUMNS` as cqrs-es's event.
fn serialized_event(row: &PgRow) -> Result<SerializedEvent, PersistenceError> {
    let read = || -> Result<SerializedEvent, sqlx::Error> {
        let sequence: i64 = row.try_get("sequence")?;
        Ok(SerializedEvent {
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: usize::try_from(sequence)
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
        })
    };
    read().map_err(|error| PersistenceError::DeserializationError(Box::new(error)))
}

pub(super) fn persistence_error(error: sqlx::Error) -> PersistenceError {
    match &error {
        sqlx::Error::Database(database)
            if database
                .code()
                .is_some_and(|code| LOST_RACE.contains(&code.as_ref())) =>
        {
            tracing::debug!(
                constraint = database.constraint().unwrap_or(""),
                "append lost a race"
            );
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Database(_) => PersistenceError::UnknownError(Box::new(error)),
        _ => PersistenceError::ConnectionError(Box::new(error)),
    }
}

fn number(value: usize) -> Result<i64, PersistenceError> {
    i64::try_from(value).map_err(|error| PersistenceError::UnknownError(Box::new(error)))
}

/// A commit's events, one array per column, and the snapshot they make due.
fn append_of(
    aggregate_type: &str,
    events: &[SerializedEvent],
    snapshot_update: Option<(String, Value, usize)>,
) -> Result<Append, PersistenceError> {
    let json = |value: &Value| {
        serde_json::to_string(value)
            .map_err(|error| PersistenceError::DeserializationError(Box::new(error)))
    };
    let mut append = Append {
        aggregate_type: aggregate_type.to_owned(),
        ..Append::default()
    };
    for event in events {
        append.aggregate_ids.push(event.aggregate_id.clone());
        append.sequences.push(number(event.sequence)?);
        append.event_types.push(event.event_type.clone());
        append.event_versions.push(event.event_version.clone());
        append.payloads.push(json(&event.payload)?);
        append.metadata.push(json(&event.metadata)?);
    }
    if let (Some((_, state, current_snapshot)), Some(last)) = (snapshot_update, events.last()) {
        append.snapshot = Some(Snapshot {
            aggregate_id: last.aggregate_id.clone(),
            last_sequence: number(last.sequence)?,
            current_snapshot: number(current_snapshot)?,
            payload: json(&state)?,
        });
    }
    Ok(append)
}

impl PersistedEventRepository for PgEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select(A::TYPE, aggregate_id, -1).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select(A::TYPE, aggregate_id, number(last_sequence)?)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        snapshots::find(&self.pool, A::TYPE, aggregate_id)
            .await
            .map_err(persistence_error)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if events.is_empty() {
            return Ok(());
        }
        self.writer
            .append(append_of(A::TYPE, events, snapshot_update)?)
            .await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        Ok(self.stream(A::TYPE, Some(aggregate_id)))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Ok(self.stream(A::TYPE, None))
    }
}
