//! Group commit on PostgreSQL: the appends waiting at one moment share one transaction, one
//! hold of the log's head and one durable commit.
//!
//! The head row is held from an append's first position to its commit, so appends take their
//! positions one transaction after another; one transaction per command would make every
//! command on every node wait for the commits (and their WAL flush) of all the ones before it.
//! Here a writer task per repository takes every append queued while the previous batch
//! committed and writes them together: all their events in one statement, the usual case. When
//! that statement fails (one append lost its race: its aggregate's sequence or a claim already
//! taken), it is rolled back and the batch is written again append by append, each in a
//! savepoint of its own, so the loser is rolled back alone and told so while the others
//! commit. Each caller is answered after the commit that holds its events.

use cqrs_es::persist::PersistenceError;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use super::event_repository::persistence_error;
use super::snapshots;

/// Appends written in one transaction at most.
const MAX_BATCH: usize = 256;

/// Appends queued before callers wait for room.
const QUEUE: usize = 1_024;

/// One command's events (consecutive sequences of one aggregate), one array per column, and
/// the snapshot they make due.
#[derive(Debug, Default)]
pub struct Append {
    pub aggregate_type: String,
    pub aggregate_ids: Vec<String>,
    pub sequences: Vec<i64>,
    pub event_types: Vec<String>,
    pub event_versions: Vec<String>,
    pub payloads: Vec<String>,
    pub metadata: Vec<String>,
    pub snapshot: Option<Snapshot>,
}

/// A snapshot row written after the events of its append.
#[derive(Debug)]
pub struct Snapshot {
    pub aggregate_id: String,
    pub last_sequence: i64,
    pub current_snapshot: i64,
    pub payload: String,
}

struct Job {
    append: Append,
    reply: oneshot::Sender<Result<(), PersistenceError>>,
}

/// A node's queue of appends and the task that commits them.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer task on `pool` (it ends when the last clone is dropped).
    pub fn start(pool: PgPool) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write(pool, jobs));
        Self { queue }
    }

    /// Appends `append`; returns once it is committed, or refused.
    pub async fn append(&self, append: Append) -> Result<(), PersistenceError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || PersistenceError::ConnectionError("the event writer has stopped".into());
        self.queue
            .send(Job { append, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write(pool: PgPool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (appends, replies): (Vec<Append>, Vec<_>) =
            batch.into_iter().map(|job| (job.append, job.reply)).unzip();
        match commit(&pool, &appends).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                // Nothing of the batch is known to be committed: each caller hears why (a lost
                // race when the commit itself was refused, otherwise the connection's error).
                let message = error.to_string();
                let lost_race = matches!(
                    persistence_error(error),
                    PersistenceError::OptimisticLockError
                );
                for reply in replies {
                    let _ = reply.send(Err(if lost_race {
                        PersistenceError::OptimisticLockError
                    } else {
                        PersistenceError::ConnectionError(message.clone().into())
                    }));
                }
            }
        }
    }
}

/// Writes `appends` in one transaction; returns each one's outcome once it has committed.
async fn commit(
    pool: &PgPool,
    appends: &[Append],
) -> Result<Vec<Result<(), PersistenceError>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // The global lock, held to the commit: this batch's positions follow every committed one.
    let head: i64 = sqlx::query_scalar("SELECT last_position FROM event_log_head FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let outcomes = if appends.len() == 1 {
        // One append: the transaction is its savepoint.
        insert(&mut tx, &appends[0], head).await?;
        vec![Ok(())]
    } else if insert_together(&mut tx, appends, head).await? {
        appends.iter().map(|_| Ok(())).collect()
    } else {
        insert_one_by_one(&mut tx, appends, head).await?
    };
    let written: usize = appends
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(append, _)| append.sequences.len())
        .sum();
    sqlx::query("UPDATE event_log_head SET last_position = $1")
        .bind(head + written as i64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Inserts every append's events in one statement, then their snapshots, in a savepoint:
/// one round trip for the whole batch where each append in its own savepoint takes three.
/// Answers false, with the savepoint rolled back, when any statement fails (an append that
/// lost its race, most likely): the caller then finds which one, append by append.
async fn insert_together(
    conn: &mut PgConnection,
    appends: &[Append],
    head: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SAVEPOINT together")
        .execute(&mut *conn)
        .await?;
    let mut rows = Append::default();
    let mut aggregate_types = Vec::new();
    for append in appends {
        aggregate_types.extend(
            append
                .sequences
                .iter()
                .map(|_| append.aggregate_type.clone()),
        );
        rows.aggregate_ids.extend_from_slice(&append.aggregate_ids);
        rows.sequences.extend_from_slice(&append.sequences);
        rows.event_types.extend_from_slice(&append.event_types);
        rows.event_versions
            .extend_from_slice(&append.event_versions);
        rows.payloads.extend_from_slice(&append.payloads);
        rows.metadata.extend_from_slice(&append.metadata);
    }
    let mut written = insert_events(conn, &aggregate_types, &rows, head).await;
    for append in appends {
        if written.is_err() {
            break;
        }
        written = insert_snapshot(conn, append).await;
    }
    if written.is_err() {
        sqlx::query("ROLLBACK TO SAVEPOINT together")
            .execute(&mut *conn)
            .await?;
        return Ok(false);
    }
    sqlx::query("RELEASE SAVEPOINT together")
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Inserts each append in a savepoint of its own, so one that fails (its aggregate's sequence
/// or a claim already taken) is rolled back alone and told so, while the others go on.
async fn insert_one_by_one(
    conn: &mut PgConnection,
    appends: &[Append],
    mut head: i64,
) -> Result<Vec<Result<(), PersistenceError>>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(appends.len());
    for append in appends {
        sqlx::query("SAVEPOINT append").execute(&mut *conn).await?;
        if let Err(error) = insert(conn, append, head).await {
            sqlx::query("ROLLBACK TO SAVEPOINT append")
                .execute(&mut *conn)
                .await?;
            outcomes.push(Err(persistence_error(error)));
            continue;
        }
        sqlx::query("RELEASE SAVEPOINT append")
            .execute(&mut *conn)
            .await?;
        head += append.sequences.len() as i64;
        outcomes.push(Ok(()));
    }
    Ok(outcomes)
}

/// Inserts `append`'s events at the positions after `head`, then its snapshot.
async fn insert(conn: &mut PgConnection, append: &Append, head: i64) -> Result<(), sqlx::Error> {
    let aggregate_types: Vec<String> = append
        .sequences
        .iter()
        .map(|_| append.aggregate_type.clone())
        .collect();
    insert_events(conn, &aggregate_types, append, head).await?;
    insert_snapshot(conn, append).await
}

/// Inserts the events of `rows` (one aggregate type per row) at the positions after `head`,
/// in their order.
async fn insert_events(
    conn: &mut PgConnection,
    aggregate_types: &[String],
    rows: &Append,
    head: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events
           (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
            metadata, position)
         SELECT rows.aggregate_type, rows.aggregate_id, rows.sequence, rows.event_type,
                rows.event_version, rows.payload::jsonb, rows.metadata::jsonb,
                $1 + rows.ordinality
           FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                       $8::text[])
                WITH ORDINALITY
                AS rows (aggregate_type, aggregate_id, sequence, event_type, event_version,
                         payload, metadata, ordinality)
          ORDER BY rows.ordinality",
    )
    .bind(head)
    .bind(aggregate_types)
    .bind(&rows.aggregate_ids)
    .bind(&rows.sequences)
    .bind(&rows.event_types)
    .bind(&rows.event_versions)
    .bind(&rows.payloads)
    .bind(&rows.metadata)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the snapshot `append` makes due, if any.
async fn insert_snapshot(conn: &mut PgConnection, append: &Append) -> Result<(), sqlx::Error> {
    let Some(snapshot) = &append.snapshot else {
        return Ok(());
    };
    snapshots::upsert(
        conn,
        &append.aggregate_type,
        &snapshot.aggregate_id,
        snapshot.last_sequence,
        snapshot.current_snapshot,
        &snapshot.payload,
    )
    .await
}
