//! The event repository on PostgreSQL: cqrs-es's `PersistedEventRepository` over
//! `migrations/postgres/`'s `events` table.
//!
//! An append is one transaction: it moves `event_log_head` forward by its number of events
//! (which locks that row until the transaction ends), inserts the events at the positions in
//! between, with the claims their trigger makes, and the snapshot they make due, then commits.
//! So positions are gap-free and in commit order, and an append that fails anywhere leaves
//! nothing behind, its positions included.
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
}

impl PgEventRepository {
    /// Reads and appends through `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
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

fn persistence_error(error: sqlx::Error) -> PersistenceError {
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

/// The columns of a commit's events, one array each (one `INSERT … SELECT FROM UNNEST`).
#[derive(Default)]
struct EventColumns {
    aggregate_ids: Vec<String>,
    sequences: Vec<i64>,
    event_types: Vec<String>,
    event_versions: Vec<String>,
    payloads: Vec<String>,
    metadata: Vec<String>,
}

impl EventColumns {
    fn of(events: &[SerializedEvent]) -> Result<Self, PersistenceError> {
        let json = |value: &Value| {
            serde_json::to_string(value)
                .map_err(|error| PersistenceError::DeserializationError(Box::new(error)))
        };
        let mut columns = Self::default();
        for event in events {
            columns.aggregate_ids.push(event.aggregate_id.clone());
            columns.sequences.push(number(event.sequence)?);
            columns.event_types.push(event.event_type.clone());
            columns.event_versions.push(event.event_version.clone());
            columns.payloads.push(json(&event.payload)?);
            columns.metadata.push(json(&event.metadata)?);
        }
        Ok(columns)
    }
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
        let Some(last) = events.last() else {
            return Ok(());
        };
        let columns = EventColumns::of(events)?;
        let count = number(events.len())?;
        let mut tx = self.pool.begin().await.map_err(persistence_error)?;
        // The global lock, held to the commit: this transaction's positions follow every
        // committed one, and no other append takes any until this one has ended.
        let head: i64 = sqlx::query_scalar(
            "UPDATE event_log_head SET last_position = last_position + $1 RETURNING last_position",
        )
        .bind(count)
        .fetch_one(&mut *tx)
        .await
        .map_err(persistence_error)?;
        sqlx::query(
            "INSERT INTO events
               (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                metadata, position)
             SELECT $1, rows.aggregate_id, rows.sequence, rows.event_type, rows.event_version,
                    rows.payload::jsonb, rows.metadata::jsonb, $2 + rows.ordinality
               FROM UNNEST($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])
                    WITH ORDINALITY
                    AS rows (aggregate_id, sequence, event_type, event_version, payload, metadata,
                             ordinality)
              ORDER BY rows.ordinality",
        )
        .bind(A::TYPE)
        .bind(head - count)
        .bind(&columns.aggregate_ids)
        .bind(&columns.sequences)
        .bind(&columns.event_types)
        .bind(&columns.event_versions)
        .bind(&columns.payloads)
        .bind(&columns.metadata)
        .execute(&mut *tx)
        .await
        .map_err(persistence_error)?;
        if let Some((_, state, current_snapshot)) = snapshot_update {
            let payload = serde_json::to_string(&state)
                .map_err(|error| PersistenceError::DeserializationError(Box::new(error)))?;
            snapshots::upsert(
                &mut tx,
                A::TYPE,
                &last.aggregate_id,
                number(last.sequence)?,
                number(current_snapshot)?,
                &payload,
            )
            .await
            .map_err(persistence_error)?;
        }
        tx.commit().await.map_err(persistence_error)
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
