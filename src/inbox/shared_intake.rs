//! Deliveries committed to the shared inbox together: the webhooks arriving at one moment on a
//! node share one `INSERT` and one durable commit on PostgreSQL, as the node's own inbox shares
//! the SQLite writer's. One commit per delivery would make every acknowledgement wait for a WAL
//! flush of its own; here a task takes every delivery queued while the previous batch
//! committed and answers each caller after the commit that holds its row.

use std::collections::HashSet;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::entry::{InboxError, Stored};
use crate::provider::EventEnvelope;

/// Deliveries written in one statement at most.
const MAX_BATCH: usize = 512;

/// Deliveries queued before callers wait for room.
const QUEUE: usize = 4_096;

/// One verified delivery, as the table stores it.
struct Row {
    event_id: String,
    kind: String,
    object_id: Option<String>,
    object_type: Option<String>,
    lane: String,
    created: i64,
    livemode: bool,
    payload: String,
    received_at: String,
}

struct Job {
    row: Row,
    reply: oneshot::Sender<Result<Stored, String>>,
}

/// A node's queue of deliveries to the shared inbox, and the task that commits them.
#[derive(Clone)]
pub struct SharedIntake {
    queue: mpsc::Sender<Job>,
}

impl SharedIntake {
    /// Starts the task on `pool`; it ends when the last clone is dropped.
    pub fn start(pool: PgPool) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(commit_batches(pool, jobs));
        Self { queue }
    }

    /// Commits `event` (its raw body as delivered) unless its id is stored already; returns
    /// once the row is durable.
    pub async fn store(&self, event: &EventEnvelope, raw: &[u8]) -> Result<Stored, InboxError> {
        let row = Row {
            event_id: event.id.clone(),
            kind: event.event_type.clone(),
            object_id: event.object_id.clone(),
            object_type: event.object_type.clone(),
            lane: event.lane().to_owned(),
            created: event.created,
            livemode: event.livemode,
            payload: String::from_utf8_lossy(raw).into_owned(),
            received_at: chrono::Utc::now().to_rfc3339(),
        };
        let (reply, answer) = oneshot::channel();
        let stopped = || InboxError::Shared("the shared inbox's writer has stopped".into());
        self.queue
            .send(Job { row, reply })
            .await
            .map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(InboxError::Shared)
    }
}

/// Commits the queued deliveries, a batch at a time, until every sender is gone.
async fn commit_batches(pool: PgPool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match insert(&pool, &batch).await {
            Ok(inserted) => {
                // A delivery is new if its row went in; a second copy in the same batch is a
                // duplicate of the first.
                let mut answered = HashSet::new();
                for job in batch {
                    let id = job.row.event_id;
                    let stored = if inserted.contains(&id) && answered.insert(id) {
                        Stored::New
                    } else {
                        Stored::Duplicate
                    };
                    let _ = job.reply.send(Ok(stored));
                }
            }
            Err(error) => {
                tracing::error!(%error, deliveries = batch.len(), "storing webhooks in the shared inbox failed");
                for job in batch {
                    let _ = job.reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// Inserts the batch's rows in one statement; the ids that went in.
async fn insert(pool: &PgPool, batch: &[Job]) -> Result<HashSet<String>, sqlx::Error> {
    let rows = batch.iter().map(|job| &job.row);
    let column = |pick: fn(&Row) -> String| rows.clone().map(pick).collect::<Vec<_>>();
    let inserted: Vec<String> = sqlx::query_scalar(
        "INSERT INTO stripe_inbox
           (event_id, type, object_id, object_type, lane, created, livemode, payload, received_at)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::bigint[], $7::boolean[], $8::text[], $9::text[])
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id",
    )
    .bind(column(|row| row.event_id.clone()))
    .bind(column(|row| row.kind.clone()))
    .bind(
        rows.clone()
            .map(|row| row.object_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.clone()
            .map(|row| row.object_type.clone())
            .collect::<Vec<_>>(),
    )
    .bind(column(|row| row.lane.clone()))
    .bind(rows.clone().map(|row| row.created).collect::<Vec<_>>())
    .bind(rows.clone().map(|row| row.livemode).collect::<Vec<_>>())
    .bind(column(|row| row.payload.clone()))
    .bind(column(|row| row.received_at.clone()))
    .fetch_all(pool)
    .await?;
    Ok(inserted.into_iter().collect())
}
