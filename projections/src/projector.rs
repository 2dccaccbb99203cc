//! Applies the event log to every read model, exactly once, in commit order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::event_log::{self, StoredEvent};
use crate::health::{self, ProjectionHealth};
use crate::in_thread;
use crate::statement::Statement;
use crate::{ProjectionError, Readers, Upstream, WriteGate};

/// A consumer of the log: a view, which owns tables and whose rows follow from the events
/// alone, or a consumer such as the mailer, which owns none and may read before it writes.
/// Views run on SQLite's handle through `statements`; a consumer runs there too when it says
/// so (`consumes_in_thread`, then `apply_direct`), else through sqlx (`apply`).
#[async_trait]
pub trait Projection: Send + Sync {
    /// Stable name; keys the projection's checkpoint.
    fn name(&self) -> &'static str;
    /// The tables this projection owns; a replay empties them before rebuilding.
    fn tables(&self) -> &'static [&'static str];
    /// A view's writes for one event (none for events of no interest), decided from the event
    /// alone, so the projector can run a batch of them on SQLite's handle in one round trip
    /// (`in_thread`). Every view gives `Some`; a consumer that reads first gives `None` and
    /// implements `apply`.
    fn statements(&self, _event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        None
    }
    /// True for a consumer whose work for an event is `apply_direct`, run in the projector's
    /// batch on SQLite's handle after every view has applied the batch.
    fn consumes_in_thread(&self) -> bool {
        false
    }
    /// A consumer's reads and writes for one event on SQLite's handle, inside the projector's
    /// transaction (`consumes_in_thread`): no round trip to sqlx's thread per statement.
    fn apply_direct(
        &self,
        _db: &rusqlite::Connection,
        _event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }
    /// Applies one event inside the projector's transaction, through sqlx: a view's
    /// `statements`, unless the projection says otherwise.
    async fn apply(
        &self,
        conn: &mut SqliteConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let Some(statements) = self.statements(event) else {
            return Ok(());
        };
        for statement in statements? {
            statement.execute(conn).await?;
        }
        Ok(())
    }
}

/// True for a view: it owns tables and describes its writes (`Projection::statements`).
pub(crate) fn is_view(projection: &Arc<dyn Projection>) -> bool {
    !projection.tables().is_empty()
}

/// True for what runs in the projector's batch on SQLite's handle: views, and the consumers
/// that say they can.
pub(crate) fn runs_in_thread(projection: &Arc<dyn Projection>) -> bool {
    is_view(projection) || projection.consumes_in_thread()
}

/// What a replay did.
#[derive(Debug, Clone, Copy)]
pub struct ReplayReport {
    /// Events applied.
    pub events: u64,
    /// Wall time of the rebuild.
    pub elapsed: Duration,
}

impl ReplayReport {
    /// Events applied per second of wall time.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Keeps every projection caught up with the log.
pub struct Projector {
    pub(crate) pool: SqlitePool,
    pub(crate) projections: Vec<Arc<dyn Projection>>,
    /// Serialises catch-ups and replays: two runs must never apply the same event.
    running: Mutex<()>,
    pub(crate) batch_size: i64,
    /// Shared with the process's other writers, so a catch-up queues for its turn.
    pub(crate) gate: WriteGate,
    /// The shared log this node copies before each catch-up (PostgreSQL), if any. Weak: the
    /// copier appends through the writer, which holds this projector.
    upstream: std::sync::OnceLock<std::sync::Weak<dyn Upstream>>,
    /// Where `is_caught_up` reads, from the calling thread.
    readers: Readers,
}

impl Projector {
    /// Events read and applied per transaction.
    pub const DEFAULT_BATCH_SIZE: i64 = 1_000;

    /// A projector over the given projections.
    pub fn new(pool: SqlitePool, projections: Vec<Arc<dyn Projection>>) -> Self {
        Self {
            readers: Readers::pooled(pool.clone()),
            pool,
            projections,
            running: Mutex::new(()),
            batch_size: Self::DEFAULT_BATCH_SIZE,
            gate: WriteGate::new(),
            upstream: std::sync::OnceLock::new(),
        }
    }

    /// Asks whether it is caught up on `readers`' connections (of the same file).
    pub fn with_readers(mut self, readers: Readers) -> Self {
        self.readers = readers;
        self
    }

    /// Takes write turns from `gate`, shared with the process's other writers.
    pub fn with_write_gate(mut self, gate: WriteGate) -> Self {
        self.gate = gate;
        self
    }

    /// Pulls `upstream`'s new events into this node's copy of the log before each catch-up.
    /// Set once; later calls are ignored.
    pub fn set_upstream(&self, upstream: std::sync::Weak<dyn Upstream>) {
        let _ = self.upstream.set(upstream);
    }

    /// Adds `projection` after the others: it applies each batch once they have.
    pub fn with_projection(mut self, projection: Arc<dyn Projection>) -> Self {
        self.projections.push(projection);
        self
    }

    /// A projector over every read model billstream has.
    pub fn with_all_projections(pool: SqlitePool) -> Self {
        Self::new(
            pool,
            vec![
                Arc::new(crate::CustomerProfiles),
                Arc::new(crate::Payments),
                Arc::new(crate::Subscriptions),
                Arc::new(crate::Invoices),
                Arc::new(crate::PendingRequests),
            ],
        )
    }

    /// Where each projection stands (checkpoint, lag, rows, last rebuild) as of `now`.
    pub async fn health(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ProjectionHealth>, ProjectionError> {
        // One read transaction: the head, checkpoints and counts come from one snapshot.
        let mut tx = self.pool.begin().await?;
        let report = health::health(&mut tx, &self.projections, now).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Applies every event committed after each projection's checkpoint; returns how many
    /// events were read. A run that starts after a commit sees that commit, so calling this
    /// after a command gives the caller its own writes.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        if let Some(upstream) = self.upstream.get().and_then(std::sync::Weak::upgrade) {
            upstream.pull().await?;
        }
        let _running = self.running.lock().await;
        let mut applied = 0;
        loop {
            // A cheap look first: most calls find nothing to do and take no write lock.
            if self.is_caught_up().await? {
                break;
            }
            // IMMEDIATE: take the write lock before reading the checkpoints, so that another
            // projector — in this process or another one on the same database — cannot apply
            // the same events: it waits for this commit and then reads the new checkpoints.
            let _turn = self.gate.turn().await;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let checkpoints = self.load_checkpoints(&mut tx).await?;
            let from = checkpoints.iter().copied().min().unwrap_or(0);
            // The views' statements, then the consumers that can (the mailer), run on SQLite's
            // handle, a batch in one round trip; other consumers read the views the batch wrote,
            // so they come after, through sqlx.
            let (in_thread, consumers): (Vec<_>, Vec<_>) = self
                .projections
                .iter()
                .zip(checkpoints)
                .partition(|(projection, _)| runs_in_thread(projection));
            let (views, direct): (Vec<_>, Vec<_>) = in_thread
                .into_iter()
                .partition(|(projection, _)| is_view(projection));
            let events = in_thread::apply_batch(
                &mut tx,
                in_thread::Batch {
                    views: &views,
                    consumers: &direct,
                    after: from,
                    limit: self.batch_size,
                },
            )
            .await?;
            let Some(last) = events.last().map(|event| event.position) else {
                tx.commit().await?;
                break;
            };
            for (consumer, checkpoint) in consumers {
                for event in events.iter().filter(|event| event.position > checkpoint) {
                    consumer.apply(&mut tx, event).await?;
                }
            }
            self.save_checkpoints(&mut tx, last).await?;
            tx.commit().await?;
            applied += events.len() as u64;
            if (events.len() as i64) < self.batch_size {
                break;
            }
        }
        Ok(applied)
    }

    /// True when every projection has applied the whole log.
    pub async fn is_caught_up(&self) -> Result<bool, ProjectionError> {
        // Every command asks this after its commit: read from this thread on a reader's
        // connection, its statements prepared once.
        let names: Vec<&'static str> = self.projections.iter().map(|p| p.name()).collect();
        self.readers
            .read(move |db| every_one_at_the_head(db, &names))
            .await
    }

    /// Applies up to one batch of the log to the views and in-thread consumers on `db`, inside
    /// the transaction a writer holds there with SQLite's write lock (`in_transaction`); returns
    /// how many events were read. For the group-commit writer, after its appends and before its
    /// commit.
    pub fn catch_up_in(&self, db: &rusqlite::Connection) -> Result<u64, ProjectionError> {
        crate::in_transaction::catch_up_on(db, &self.projections, self.batch_size)
    }

    /// Rebuilds every projection from the first event, in one transaction: readers keep
    /// seeing the old tables until the rebuilt ones commit in their place. `on_progress`
    /// receives (position reached, head position).
    pub async fn replay(
        &self,
        on_progress: &(dyn Fn(i64, i64) + Send + Sync),
    ) -> Result<ReplayReport, ProjectionError> {
        let _running = self.running.lock().await;
        let started = Instant::now();
        let _turn = self.gate.turn().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = event_log::head_position(&mut tx).await?;
        for projection in &self.projections {
            for table in projection.tables() {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let mut position = 0;
        let mut events_applied = 0;
        let (in_thread, consumers): (Vec<_>, Vec<_>) = self
            .projections
            .iter()
            .partition(|projection| runs_in_thread(projection));
        let (views, direct): (Vec<_>, Vec<_>) = in_thread
            .into_iter()
            .map(|projection| (projection, 0))
            .partition(|(projection, _)| is_view(projection));
        loop {
            let events = in_thread::apply_batch(
                &mut tx,
                in_thread::Batch {
                    views: &views,
                    consumers: &direct,
                    after: position,
                    limit: self.batch_size,
                },
            )
            .await?;
            let Some(last) = events.last().map(|event| event.position) else {
                break;
            };
            for event in &events {
                for consumer in &consumers {
                    consumer.apply(&mut tx, event).await?;
                }
            }
            events_applied += events.len() as u64;
            position = last;
            on_progress(position, head);
        }
        self.save_checkpoints(&mut tx, position).await?;
        // Recorded for the operators' projection health (only this replay's projections: the
        // CLI's replay leaves the mailer alone).
        let rebuilt_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for projection in &self.projections {
            sqlx::query("UPDATE projection_checkpoints SET rebuilt_at = ? WHERE projection = ?")
                .bind(&rebuilt_at)
                .bind(projection.name())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ReplayReport {
            events: events_applied,
            elapsed: started.elapsed(),
        })
    }

    /// Sets every projection's checkpoint to `position`, in one statement (each statement is a
    /// round trip to SQLite's thread).
    async fn save_checkpoints(
        &self,
        conn: &mut SqliteConnection,
        position: i64,
    ) -> Result<(), sqlx::Error> {
        if self.projections.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?)"; self.projections.len()].join(", ");
        let sql = format!(
            "INSERT INTO projection_checkpoints (projection, position) VALUES {rows}
             ON CONFLICT (projection) DO UPDATE SET position = excluded.position"
        );
        let mut query = sqlx::query(&sql);
        for projection in &self.projections {
            query = query.bind(projection.name()).bind(position);
        }
        query.execute(conn).await?;
        Ok(())
    }

    /// Each projection's checkpoint, in the order of `self.projections` (0 when it has none).
    async fn load_checkpoints(
        &self,
        conn: &mut SqliteConnection,
    ) -> Result<Vec<i64>, ProjectionError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT projection, position FROM projection_checkpoints")
                .fetch_all(conn)
                .await?;
        Ok(self
            .projections
            .iter()
            .map(|projection| {
                rows.iter()
                    .find(|(name, _)| name == projection.name())
                    .map_or(0, |(_, position)| *position)
            })
            .collect())
    }
}

/// True when each of `names` has a checkpoint at the log's head (or the log is empty).
fn every_one_at_the_head(db: &rusqlite::Connection, names: &[&str]) -> rusqlite::Result<bool> {
    let head: i64 = db
        .prepare_cached("SELECT COALESCE(MAX(position), 0) FROM events")?
        .query_row([], |row| row.get(0))?;
    if head == 0 {
        return Ok(true);
    }
    let mut statement =
        db.prepare_cached("SELECT projection, position FROM projection_checkpoints")?;
    let checkpoints = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names.iter().all(|name| {
        checkpoints
            .iter()
            .any(|(projection, position)| projection == name && *position >= head)
    }))
}
