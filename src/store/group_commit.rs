//! Group commit: concurrent writes share one SQLite transaction, hence one fsync.
//!
//! At `synchronous=FULL` every commit waits for the disk, so a transaction per request caps
//! the service at the disk's fsync rate. Here one writer owns a connection; requests hand it
//! their statements as a job and wait. The writer takes whatever jobs arrived while the
//! previous batch was committing (and, when several are arriving, what comes within a short
//! window), runs each inside its own SAVEPOINT (a single statement needs none: SQLite undoes a
//! failed statement by itself), and commits them together. Each caller hears back only after
//! that commit: nothing is acknowledged before it is durable. A job whose statements fail (an
//! optimistic-lock conflict, a uniqueness claim) is rolled back to its savepoint and fails
//! alone; the rest of the batch commits.
//!
//! The writer is a thread of its own with its own SQLite connection (rusqlite, on the file the
//! pool opened, with the pool's durability and busy handler), not a pooled sqlx connection:
//! through sqlx every statement of a batch was a round trip to sqlx's connection thread and
//! back, so a batch of webhooks cost as many thread switches as it had rows (BENCHMARKS.md's
//! ingest profile). Here a batch is SQLite's work alone, with statements prepared once for the
//! writer's life, and no async worker thread is ever blocked by a commit's fsync.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::{Projector, Readers, WriteGate};
use sqlx::SqlitePool;
use tokio::sync::oneshot;

pub use super::group_commit_error::GroupCommitError;
use super::log_repository::SharedLog;
use super::writer_connection::WriterConnection;

/// The statements of one job, run on the writer's connection inside the batch's transaction.
/// Prepare them with `prepare_cached`: the writer's connection lives as long as the service.
pub type JobWork<T> = Box<dyn FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error> + Send>;

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

/// A handle on the writer. Cloning shares the writer.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Box<dyn Job>>,
    stats: Arc<Counters>,
    /// On PostgreSQL, where commands append their events instead (`log_repository`); the
    /// node's file still takes every other write, and the copy of that log.
    shared_log: Option<SharedLog>,
    /// Read-only connections to the same file, for the reads before a command's append.
    readers: Option<Readers>,
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
    /// Starts the writer on a thread and a connection of its own, on the file `pool` opened.
    /// It stops when the last handle is dropped.
    pub async fn start(
        pool: &SqlitePool,
        gate: WriteGate,
        settings: GroupCommitSettings,
    ) -> Result<Self, GroupCommitError> {
        Self::launch(pool, gate, settings, None).await
    }

    /// Like [`GroupCommit::start`], and each batch also brings `projector`'s views (and its
    /// in-thread consumers) up to the log before it commits, in the same transaction: an append
    /// is acknowledged with the read models already showing it.
    pub async fn start_with_views(
        pool: &SqlitePool,
        gate: WriteGate,
        settings: GroupCommitSettings,
        projector: Arc<Projector>,
    ) -> Result<Self, GroupCommitError> {
        Self::launch(pool, gate, settings, Some(projector)).await
    }

    async fn launch(
        pool: &SqlitePool,
        gate: WriteGate,
        settings: GroupCommitSettings,
        views: Option<Arc<Projector>>,
    ) -> Result<Self, GroupCommitError> {
        let connection = WriterConnection::of(pool).await?;
        let db = connection.open()?;
        let (jobs, queue) = mpsc::channel();
        let stats = Arc::new(Counters::default());
        let counters = stats.clone();
        std::thread::Builder::new()
            .name("billstream-writer".into())
            .spawn(move || {
                let writer = Writer {
                    db,
                    gate,
                    settings,
                    stats: counters,
                    views,
                };
                writer.run(queue)
            })
            .map_err(|error| GroupCommitError::Open(error.to_string()))?;
        Ok(Self {
            jobs,
            stats,
            shared_log: None,
            readers: None,
        })
    }

    /// This writer, with commands appending their events to `shared_log` (PostgreSQL).
    pub fn with_shared_log(mut self, shared_log: SharedLog) -> Self {
        self.shared_log = Some(shared_log);
        self
    }

    /// This writer, with `readers` for the loads of the commands that append through it.
    pub fn with_readers(mut self, readers: Readers) -> Self {
        self.readers = Some(readers);
        self
    }

    /// The readers of the writer's file, when it was given them.
    pub fn readers(&self) -> Option<&Readers> {
        self.readers.as_ref()
    }

    /// The shared log commands append to, when the node runs on PostgreSQL.
    pub fn shared_log(&self) -> Option<&SharedLog> {
        self.shared_log.as_ref()
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
    /// SQLite undoes a failed statement by itself, so no savepoint is needed.
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
        self.jobs.send(job).map_err(|_| GroupCommitError::Stopped)?;
        answer.await.map_err(|_| GroupCommitError::Stopped)?
    }
}

/// A job with its result type erased, so one queue carries every kind of write.
trait Job: Send {
    /// Runs the statements; true when they succeeded.
    fn run(&mut self, db: &rusqlite::Connection) -> bool;
    /// Tells the caller how it ended, once the batch is over.
    fn reply(self: Box<Self>, batch: Result<(), String>);
    /// Whether it must run behind a savepoint (more than one statement).
    fn needs_savepoint(&self) -> bool;
}

struct TypedJob<T> {
    work: Option<JobWork<T>>,
    outcome: Option<Result<T, GroupCommitError>>,
    reply: oneshot::Sender<Result<T, GroupCommitError>>,
    savepoint: bool,
}

impl<T: Send + 'static> Job for TypedJob<T> {
    fn run(&mut self, db: &rusqlite::Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A job that panics fails alone (its savepoint is rolled back); the writer goes on.
        let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(db))) {
            Ok(outcome) => outcome.map_err(GroupCommitError::Rejected),
            Err(_) => Err(GroupCommitError::Panicked),
        };
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn needs_savepoint(&self) -> bool {
        self.savepoint
    }

    fn reply(self: Box<Self>, batch: Result<(), String>) {
        let answer = match (self.outcome, batch) {
            // Its own failure first: it was rolled back whatever became of the batch.
            (Some(Err(error)), _) => Err(error),
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

/// The writer thread's state.
struct Writer {
    db: rusqlite::Connection,
    gate: WriteGate,
    settings: GroupCommitSettings,
    stats: Arc<Counters>,
    /// Caught up inside each batch's transaction, when given.
    views: Option<Arc<Projector>>,
}

impl Writer {
    /// Batches until every handle is dropped.
    fn run(self, queue: mpsc::Receiver<Box<dyn Job>>) {
        let mut previous_batch = 0;
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            gather(&queue, &mut batch, previous_batch, self.settings);
            previous_batch = batch.len();
            let turn = self.gate.turn_blocking();
            let outcome = self.commit_batch(&mut batch);
            drop(turn);
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            self.stats
                .jobs
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            if let Err(reason) = &outcome {
                tracing::error!(error = %reason, jobs = batch.len(), "group commit failed");
            }
            for job in batch {
                job.reply(outcome.clone());
            }
        }
    }

    /// Runs every job of the batch in one transaction, each behind its own savepoint, then
    /// the views' catch-up, then commits.
    fn commit_batch(&self, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
        let db = &self.db;
        execute(db, "BEGIN IMMEDIATE")?;
        let outcome = run_jobs(db, batch)
            .and_then(|()| self.catch_up_views())
            .and_then(|()| execute(db, "COMMIT"));
        if outcome.is_err() && !db.is_autocommit() {
            let _ = execute(db, "ROLLBACK");
        }
        outcome
    }

    /// Applies the batch's events to the views behind a savepoint: a projection that fails is
    /// rolled back alone, the appends still commit, and the projector's own catch-up meets the
    /// failure again (and reports it) as it always has.
    fn catch_up_views(&self) -> Result<(), String> {
        let Some(projector) = &self.views else {
            return Ok(());
        };
        let db = &self.db;
        execute(db, "SAVEPOINT views")?;
        if let Err(error) = projector.catch_up_in(db) {
            tracing::warn!(%error, "views not caught up in the writer's transaction; the projector will retry");
            execute(db, "ROLLBACK TO views")?;
        }
        execute(db, "RELEASE views")?;
        still_in_transaction(db)
    }
}

/// Adds the jobs already queued; when writes are arriving concurrently (this batch or the
/// last had more than one), also waits up to the window for more. A lone request is never
/// delayed.
fn gather(
    queue: &mpsc::Receiver<Box<dyn Job>>,
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
        let left = deadline.saturating_duration_since(Instant::now());
        match queue.recv_timeout(left) {
            Ok(job) => batch.push(job),
            Err(_) => return,
        }
    }
}

fn run_jobs(db: &rusqlite::Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    for job in batch.iter_mut() {
        if !job.needs_savepoint() {
            job.run(db);
            still_in_transaction(db)?;
            continue;
        }
        execute(db, "SAVEPOINT job")?;
        if !job.run(db) {
            execute(db, "ROLLBACK TO job")?;
        }
        execute(db, "RELEASE job")?;
        still_in_transaction(db)?;
    }
    Ok(())
}

/// Some failures (a full disk, an I/O error) make SQLite roll back the whole transaction, not
/// only the statement: the jobs after it would then commit one by one, outside the batch, so
/// the batch stops there and every job of it hears that it failed.
fn still_in_transaction(db: &rusqlite::Connection) -> Result<(), String> {
    if db.is_autocommit() {
        return Err("SQLite rolled the transaction back".to_owned());
    }
    Ok(())
}

fn execute(db: &rusqlite::Connection, statement: &'static str) -> Result<(), String> {
    db.prepare_cached(statement)
        .and_then(|mut prepared| prepared.execute([]))
        .map(|_| ())
        .map_err(|error| error.to_string())
}
