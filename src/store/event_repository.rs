//! The event store's repository: sqlite-es's rows, read on SQLite's handle (`event_reads`) and
//! streamed by sqlite-es for replays, appended with snapshots by the group-commit writer.
//!
//! Appends are the same rows sqlite-es writes (its schema, its statement), so sqlite-es reads
//! them back unchanged; they merely share a transaction with other concurrent writes. A
//! snapshot (`snapshots`) is written in the same job as the events that make it due, so it
//! commits with them or not at all, under the same write gate. An
//! append that loses the optimistic-lock race (the aggregate's next sequence number is
//! already taken) or a uniqueness claim made by a trigger fails its primary key, is rolled
//! back alone and surfaces as cqrs-es's conflict, exactly as with sqlite-es.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use projections::Readers;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use sqlx::SqlitePool;

use super::event_reads;
use super::group_commit::{GroupCommit, GroupCommitError, JobWork};
use super::snapshots;

/// SQLite's extended result code for a primary-key violation.
const PRIMARY_KEY_VIOLATION: i32 = 1555;

/// sqlite-es's append statement, column for column.
const INSERT_EVENT: &str = "INSERT INTO events
  (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
  VALUES (?, ?, ?, ?, ?, ?, ?)";

/// Event repository whose appends (and snapshots) are group-committed.
pub struct GroupCommitEventRepository {
    reads: SqliteEventRepository,
    /// A command's load: its snapshot, then the events after it.
    readers: Readers,
    writer: GroupCommit,
}

impl GroupCommitEventRepository {
    /// Reads on `writer`'s readers (through `pool` when it has none), appends through `writer`.
    pub fn new(pool: SqlitePool, writer: GroupCommit) -> Self {
        let readers = writer
            .readers()
            .cloned()
            .unwrap_or_else(|| Readers::pooled(pool.clone()));
        Self {
            reads: SqliteEventRepository::new(pool),
            readers,
            writer,
        }
    }
}

/// One event, serialised for its row.
struct EventRow {
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
}

impl EventRow {
    fn from_event(event: &SerializedEvent) -> Result<Self, PersistenceError> {
        let json = |value: &Value| {
            serde_json::to_string(value)
                .map_err(|error| PersistenceError::DeserializationError(Box::new(error)))
        };
        Ok(Self {
            aggregate_id: event.aggregate_id.clone(),
            sequence: i64::try_from(event.sequence)
                .map_err(|error| PersistenceError::UnknownError(Box::new(error)))?,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            payload: json(&event.payload)?,
            metadata: json(&event.metadata)?,
        })
    }
}

/// A snapshot to write after the events: the state's JSON and number; it covers the commit's
/// last event.
struct SnapshotRow {
    payload: String,
    current_snapshot: i64,
    last_sequence: i64,
}

impl SnapshotRow {
    /// The snapshot update of a commit ending at sequence `last`.
    fn for_commit(
        update: Option<(String, Value, usize)>,
        last: usize,
    ) -> Result<Option<Self>, PersistenceError> {
        let Some((_, state, current_snapshot)) = update else {
            return Ok(None);
        };
        let number = |value: usize| {
            i64::try_from(value).map_err(|error| PersistenceError::UnknownError(Box::new(error)))
        };
        Ok(Some(Self {
            payload: serde_json::to_string(&state)
                .map_err(|error| PersistenceError::DeserializationError(Box::new(error)))?,
            current_snapshot: number(current_snapshot)?,
            last_sequence: number(last)?,
        }))
    }
}

fn persistence_error(error: GroupCommitError) -> PersistenceError {
    match error {
        error if error.sqlite_code() == Some(PRIMARY_KEY_VIOLATION) => {
            PersistenceError::OptimisticLockError
        }
        GroupCommitError::Rejected(error) => PersistenceError::UnknownError(Box::new(error)),
        other => PersistenceError::ConnectionError(Box::new(other)),
    }
}

impl PersistedEventRepository for GroupCommitEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        event_reads::select_events(&self.readers, A::TYPE, aggregate_id, None).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        event_reads::select_events(&self.readers, A::TYPE, aggregate_id, Some(last_sequence)).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        snapshots::find(&self.readers, A::TYPE, aggregate_id)
            .await
            .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        // A snapshot update (`snapshot_store`) is the state after every event of the commit.
        let snapshot = SnapshotRow::for_commit(snapshot_update, last.sequence)?;
        let aggregate_id = last.aggregate_id.clone();
        let rows = events
            .iter()
            .map(EventRow::from_event)
            .collect::<Result<Vec<_>, _>>()?;
        // One event is one statement (its triggers included), which fails or commits whole.
        let single = rows.len() == 1 && snapshot.is_none();
        let work: JobWork<()> = Box::new(move |db| {
            let mut insert = db.prepare_cached(INSERT_EVENT)?;
            for row in &rows {
                insert.execute(rusqlite::params![
                    A::TYPE,
                    row.aggregate_id,
                    row.sequence,
                    row.event_type,
                    row.event_version,
                    row.payload,
                    row.metadata,
                ])?;
            }
            if let Some(snapshot) = &snapshot {
                snapshots::upsert(
                    db,
                    A::TYPE,
                    &aggregate_id,
                    snapshot.last_sequence,
                    snapshot.current_snapshot,
                    &snapshot.payload,
                )?;
            }
            Ok(())
        });
        let appended = if single {
            self.writer.run_statement(work).await
        } else {
            self.writer.run(work).await
        };
        appended.map_err(persistence_error)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
