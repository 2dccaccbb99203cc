//! Group commit on PostgreSQL: the appends waiting at one moment share one transaction, one
//! hold of the log's head and one durable commit.
//!
//! The head row is held from an append's first position to its commit, so appends take their
//! positions one transaction after another; one transaction per command would make every
//! command on every node wait for the commits (and their WAL flush) of all the ones before it.
//! Here a writer task per repository takes every append queued while the previous batch
//! committed and writes them together: each in a savepoint of its own, so one that loses its
//! race (its aggregate's sequence or a claim already taken) is rolled back alone and told so,
//! while the others commit. Each caller is answered after the commit that holds its events.

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
    let mut head: i64 = sqlx::query_scalar("SELECT last_position FROM event_log_head FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let alone = appends.len() == 1;
    let mut outcomes = Vec::with_capacity(appends.len());
    for append in appends {
        if alone {
            // One append: the transaction is its savepoint.
            insert(&mut tx, append, head).await?;
        } else {
            sqlx::query("SAVEPOINT append").execute(&mut *tx).await?;
            if let Err(error) = insert(&mut tx, append, head).await {
                sqlx::query("ROLLBACK TO SAVEPOINT append")
                    .execute(&mut *tx)
                    .await?;
                outcomes.push(Err(persistence_error(error)));
                continue;
            }
            sqlx::query("RELEASE SAVEPOINT append")
                .execute(&mut *tx)
                .await?;
        }
        head += append.sequences.len() as i64;
        outcomes.push(Ok(()));
    }
    sqlx::query("UPDATE event_log_head SET last_position = $1")
        .bind(head)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Inserts `append`'s events at the positions after `head`, then its snapshot.
async fn insert(conn: &mut PgConnection, append: &Append, head: i64) -> Result<(), sqlx::Error> {
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
    .bind(&append.aggregate_type)
    .bind(head)
    .bind(&append.aggregate_ids)
    .bind(&append.sequences)
    .bind(&append.event_types)
    .bind(&append.event_versions)
    .bind(&append.payloads)
    .bind(&append.metadata)
    .execute(&mut *conn)
    .await?;
    if let Some(snapshot) = &append.snapshot {
        snapshots::upsert(
            conn,
            &append.aggregate_type,
            &snapshot.aggregate_id,
            snapshot.last_sequence,
            snapshot.current_snapshot,
            &snapshot.payload,
        )
        .await?;
    }
    Ok(())
}
