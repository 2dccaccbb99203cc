//! Group commit: concurrent writes share one SQLite transaction, hence one fsync.
//!
//! At `synchronous=FULL` every commit waits for the disk, so a transaction per request caps
//! the service at the disk's fsync rate. Here one writer task owns a connection; requests hand
//! it their statements as a job and wait. The writer takes whatever jobs arrived while the
//! previous batch was committing (and, when several are arriving, what comes within a short
//! window), runs each inside its own SAVEPOINT (a single statement needs none: SQLite undoes a
//! failed statement by itself), and commits them together. Each caller hears
//! back only after that commit: nothing is acknowledged before it is durable. A job whose
//! statements fail (an optimistic-lock conflict, a uniqueness claim) is rolled back to its
//! savepoint and fails alone; the rest of the batch commits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use projections::WriteGate;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Why a job did not commit.
#[derive(Debug, thiserror::Error)]
pub enum GroupCommitError {
    /// The job's own statements failed; they were rolled back, the batch went on.
    #[error(transparent)]
    Rejected(#[from] sqlx::Error),
    /// The batch's transaction could not begin or commit: nothing of the job was kept.
    #[error("the write transaction failed: {0}")]
    TransactionFailed(String),
    /// The writer has stopped (the service is shutting down).
    #[error("the database writer has stopped")]
    Stopped,
}

/// The statements of one job, run on the writer's connection inside the batch's transaction.
pub type JobWork<T> = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send,
>;

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct GroupCommitSettings {
    /// How long the writer waits for more jobs once it sees concurrent ones (0: never waits).
    pub window: Duration,
    /// The most jobs one transaction holds.
    pub max_batch: usize,
}

impl Default for GroupCommitSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_micros(500),
            max_batch: 512,
        }
    }
}

/// A handle on the writer task. Cloning shares the writer.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Box<dyn Job>>,
    stats: Arc<Counters>,
}

/// What the writer has done since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions committed (or attempted).
    pub batches: u64,
    /// Jobs run in them.
    pub jobs: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
}

impl GroupCommit {
    /// Starts the writer on a connection of its own, taken out of `pool`. It stops when the
    /// last handle is dropped.
    pub async fn start(
        pool: &SqlitePool,
        gate: WriteGate,
        settings: GroupCommitSettings,
    ) -> Result<Self, sqlx::Error> {
        let conn: PoolConnection<Sqlite> = pool.acquire().await?;
        let (jobs, queue) = mpsc::channel(settings.max_batch.max(1) * 4);
        let stats = Arc::new(Counters::default());
        tokio::spawn(run_writer(
            conn.detach(),
            queue,
            gate,
            settings,
            stats.clone(),
        ));
        Ok(Self { jobs, stats })
    }

    /// Transactions and jobs so far: their ratio is the mean batch size.
    pub fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            jobs: self.stats.jobs.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` in the next batch and returns its result once that batch has committed.
    /// If `work` fails, everything it did is rolled back (to its savepoint).
    pub async fn run<T: Send + 'static>(&self, work: JobWork<T>) -> Result<T, GroupCommitError> {
        self.submit(work, true).await
    }

    /// Like [`GroupCommit::run`] for work that is one SQL statement (its triggers included).
    /// SQLite undoes a failed statement by itself, so no savepoint is needed: on this
    /// connection, where every statement is a round trip to SQLite's thread, that saves two
    /// of the job's three.
    pub async fn run_statement<T: Send + 'static>(
        &self,
        work: JobWork<T>,
    ) -> Result<T, GroupCommitError> {
        self.submit(work, false).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: JobWork<T>,
        savepoint: bool,
    ) -> Result<T, GroupCommitError> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob {
            work: Some(work),
            outcome: None,
            reply,
            savepoint,
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| GroupCommitError::Stopped)?;
        answer.await.map_err(|_| GroupCommitError::Stopped)?
    }
}

/// A job with its result type erased, so one queue carries every kind of write.
trait Job: Send {
    /// Runs the statements; true when they succeeded.
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool>;
    /// Tells the caller how it ended, once the batch is over.
    fn reply(self: Box<Self>, batch: Result<(), String>);
    /// Whether it must run behind a savepoint (more than one statement).
    fn needs_savepoint(&self) -> bool;
}

struct TypedJob<T> {
    work: Option<JobWork<T>>,
    outcome: Option<Result<T, sqlx::Error>>,
    reply: oneshot::Sender<Result<T, GroupCommitError>>,
    savepoint: bool,
}

impl<T: Send + 'static> Job for TypedJob<T> {
    fn run<'c>(&'c mut self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return false;
            };
            let outcome = work(conn).await;
            let succeeded = outcome.is_ok();
            self.outcome = Some(outcome);
            succeeded
        })
    }

    fn needs_savepoint(&self) -> bool {
        self.savepoint
    }

    fn reply(self: Box<Self>, batch: Result<(), String>) {
        let answer = match (self.outcome, batch) {
            // Its own failure first: it was rolled back whatever became of the batch.
            (Some(Err(error)), _) => Err(GroupCommitError::Rejected(error)),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(reason)) => Err(GroupCommitError::TransactionFailed(reason)),
            (None, Ok(())) => Err(GroupCommitError::TransactionFailed(
                "the job did not run".to_owned(),
            )),
        };
        // The caller may have gone away (a closed connection): the commit stands regardless.
        let _ = self.reply.send(answer);
    }
}

async fn run_writer(
    mut conn: SqliteConnection,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    gate: WriteGate,
    settings: GroupCommitSettings,
    stats: Arc<Counters>,
) {
    let mut previous_batch = 0;
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        gather(&mut queue, &mut batch, previous_batch, settings).await;
        previous_batch = batch.len();
        let turn = gate.turn().await;
        let outcome = commit_batch(&mut conn, &mut batch).await;
        drop(turn);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        if let Err(reason) = &outcome {
            tracing::error!(error = %reason, jobs = batch.len(), "group commit failed");
        }
        for job in batch {
            job.reply(outcome.clone());
        }
    }
}

/// Adds the jobs already queued; when writes are arriving concurrently (this batch or the
/// last had more than one), also waits up to the window for more. A lone request is never
/// delayed.
async fn gather(
    queue: &mut mpsc::Receiver<Box<dyn Job>>,
    batch: &mut Vec<Box<dyn Job>>,
    previous_batch: usize,
    settings: GroupCommitSettings,
) {
    while batch.len() < settings.max_batch {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    if settings.window.is_zero() || (batch.len() <= 1 && previous_batch <= 1) {
        return;
    }
    let deadline = Instant::now() + settings.window;
    while batch.len() < settings.max_batch {
        match tokio::time::timeout_at(deadline, queue.recv()).await {
            Ok(Some(job)) => batch.push(job),
            Ok(None) | Err(_) => return,
        }
    }
}

/// Runs every job of the batch in one transaction, each behind its own savepoint.
// Boxed futures: they keep the writer's future provably `Send` for `tokio::spawn`.
fn commit_batch<'a>(
    conn: &'a mut SqliteConnection,
    batch: &'a mut [Box<dyn Job>],
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        execute(conn, "BEGIN IMMEDIATE").await?;
        match run_jobs(conn, batch).await {
            Ok(()) => match execute(conn, "COMMIT").await {
                Ok(()) => Ok(()),
                Err(reason) => {
                    let _ = execute(conn, "ROLLBACK").await;
                    Err(reason)
                }
            },
            Err(reason) => {
                let _ = execute(conn, "ROLLBACK").await;
                Err(reason)
            }
        }
    })
}

fn run_jobs<'a>(
    conn: &'a mut SqliteConnection,
    batch: &'a mut [Box<dyn Job>],
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        for job in batch.iter_mut() {
            if !job.needs_savepoint() {
                job.run(conn).await;
                continue;
            }
            execute(conn, "SAVEPOINT job").await?;
            if !job.run(conn).await {
                execute(conn, "ROLLBACK TO job").await?;
            }
            execute(conn, "RELEASE job").await?;
        }
        Ok(())
    })
}

fn execute<'a>(
    conn: &'a mut SqliteConnection,
    statement: &'static str,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        sqlx::Executor::execute(conn, statement)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    })
}
