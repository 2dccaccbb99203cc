//! Rebuilding views beside the live ones while the service keeps writing.
//!
//! A dedicated connection creates TEMP tables named like the views: SQLite resolves unqualified
//! names TEMP first, so the unchanged projection code fills them from the log, batch by batch,
//! in transactions that never take the main database's write lock. The rows are then copied
//! into `main.<table>__rebuild` in short write transactions (`shadow_copy`), and one short swap
//! transaction renames the live table aside (`<table>__retired`), renames the shadow in its
//! place, applies the events appended since the shadow's position and moves the checkpoint.
//! The retired table is emptied afterwards in short transactions and then dropped: dropping a
//! large table inside the swap would hold the write lock for as long as freeing its pages
//! takes. Readers see the old view or the new one, never a half-built one; a crash before the
//! swap leaves the live views untouched (TEMP vanishes with the connection; stale `__rebuild`
//! and `__retired` tables (with any index built on them) are dropped by the next run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::event_log;
use crate::in_thread;
use crate::projector::Projection;
use crate::shadow_copy::{copy_to_main, index_main_shadow};
use crate::shadow_retire::{drop_retired, retired_name};
use crate::shadow_schema::{shadow_name, TableSchema};
use crate::{ProjectionError, WriteGate};

/// Receives (position reached, head position) as a rebuild proceeds.
pub type Progress<'a> = &'a (dyn Fn(i64, i64) + Send + Sync);

/// What a shadow rebuild did.
#[derive(Debug, Clone, Copy)]
pub struct RebuildReport {
    /// Events applied to the shadow (including those applied during the swap).
    pub events: u64,
    /// Wall time from start to the swap's commit.
    pub elapsed: Duration,
    /// Events appended meanwhile that the swap transaction applied.
    pub swap_events: u64,
    /// How long the swap transaction held the write lock.
    pub swap: Duration,
    /// The position the rebuilt views stand at.
    pub position: i64,
}

impl RebuildReport {
    /// Events applied per second of wall time.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// A connection holding TEMP shadows of some views, filled from the log.
pub(crate) struct Shadow<'a> {
    pub conn: SqliteConnection,
    pub projections: &'a [Arc<dyn Projection>],
    pub schemas: Vec<TableSchema>,
    /// The position of the last event applied to the TEMP tables.
    pub position: i64,
    pub events: u64,
    batch_size: i64,
}

impl<'a> Shadow<'a> {
    /// A new connection of `pool` with empty TEMP copies of `projections`' tables.
    pub async fn open(
        pool: &SqlitePool,
        projections: &'a [Arc<dyn Projection>],
        batch_size: i64,
    ) -> Result<Shadow<'a>, ProjectionError> {
        // Detached: its TEMP tables must not outlive the rebuild in a pooled connection.
        let mut conn = PoolConnection::<Sqlite>::detach(pool.acquire().await?);
        // On disk, not in memory: the views of a long log can be large.
        sqlx::query("PRAGMA temp_store = FILE")
            .execute(&mut conn)
            .await?;
        // No rollback journal for TEMP: a fill's batch that fails ends the rebuild, and the
        // connection, TEMP and all, is thrown away; no caller rolls back a write to TEMP and
        // reads it again (a verify commits its catch-up). The journal was a second write of
        // every page a batch touched: a fill of 1,000,000 events took 7.0-7.7 s with it,
        // 4.9-5.1 s without (BENCHMARKS.md, stop 41).
        sqlx::query("PRAGMA temp.journal_mode = OFF")
            .execute(&mut conn)
            .await?;
        let mut schemas = Vec::new();
        for projection in projections {
            for table in projection.tables() {
                let schema = TableSchema::read(&mut conn, table).await?;
                for statement in schema.create_for_fill() {
                    sqlx::query(&statement).execute(&mut conn).await?;
                }
                schemas.push(schema);
            }
        }
        Ok(Shadow {
            conn,
            projections,
            schemas,
            position: 0,
            events: 0,
            batch_size,
        })
    }

    /// Applies the log to the TEMP tables until it finds nothing more to apply.
    pub async fn fill(&mut self, on_progress: Progress<'_>) -> Result<(), ProjectionError> {
        loop {
            // A deferred transaction: it reads the log and writes TEMP, so it never holds the
            // main database's write lock.
            let views = at_position(self.projections, self.position);
            let mut tx = sqlx::Connection::begin(&mut self.conn).await?;
            let head = event_log::head_position(&mut tx).await?;
            let events = in_thread::apply_batch(
                &mut tx,
                in_thread::Batch {
                    views: &views,
                    consumers: &[],
                    after: self.position,
                    limit: self.batch_size,
                },
            )
            .await?;
            tx.commit().await?;
            if let Some(last) = events.last() {
                self.position = last.position;
                self.events += events.len() as u64;
            }
            on_progress(self.position, head);
            if (events.len() as i64) < self.batch_size {
                return Ok(());
            }
        }
    }

    /// Applies the events after the shadow's position up to `until` (inclusive), within the
    /// caller's transaction on this connection.
    pub async fn apply_until(&mut self, until: i64) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        while self.position < until {
            let limit = self.batch_size.min(until - self.position);
            let views = at_position(self.projections, self.position);
            let events = in_thread::apply_batch(
                &mut self.conn,
                in_thread::Batch {
                    views: &views,
                    consumers: &[],
                    after: self.position,
                    limit,
                },
            )
            .await?;
            let Some(last) = events.last().map(|event| event.position) else {
                break;
            };
            applied += events.len() as u64;
            self.position = last;
        }
        self.events += applied;
        Ok(applied)
    }

    /// Drops every TEMP shadow and closes the connection.
    pub async fn close(mut self) -> Result<(), ProjectionError> {
        for schema in &self.schemas {
            sqlx::query(&format!("DROP TABLE IF EXISTS temp.\"{}\"", schema.table))
                .execute(&mut self.conn)
                .await?;
        }
        sqlx::Connection::close(self.conn).await?;
        Ok(())
    }
}

/// `views`, each to be applied after `position`.
fn at_position(views: &[Arc<dyn Projection>], position: i64) -> Vec<(&Arc<dyn Projection>, i64)> {
    views.iter().map(|view| (view, position)).collect()
}

/// Rebuilds `projections` beside the live views and swaps them in; see the module header.
pub(crate) async fn rebuild(
    pool: &SqlitePool,
    gate: &WriteGate,
    projections: &[Arc<dyn Projection>],
    batch_size: i64,
    on_progress: Progress<'_>,
) -> Result<RebuildReport, ProjectionError> {
    let started = Instant::now();
    let mut shadow = Shadow::open(pool, projections, batch_size).await?;
    drop_retired(&mut shadow.conn, gate, &shadow.schemas).await?;
    prepare_main_shadows(&mut shadow, gate).await?;
    shadow.fill(on_progress).await?;
    for schema in shadow.schemas.clone() {
        copy_to_main(&mut shadow.conn, gate, &schema).await?;
        index_main_shadow(&mut shadow.conn, gate, &schema).await?;
        // From here on the connection's unqualified name must mean the main table again.
        sqlx::query(&format!("DROP TABLE temp.\"{}\"", schema.table))
            .execute(&mut shadow.conn)
            .await?;
    }
    let swap_started = Instant::now();
    let turn = gate.turn().await;
    // Begun and ended by hand: the tail is applied through `shadow`, which owns the connection.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut shadow.conn)
        .await?;
    let (head, swap_events) = match swap(&mut shadow).await {
        Ok(done) => {
            sqlx::query("COMMIT").execute(&mut shadow.conn).await?;
            done
        }
        Err(error) => {
            sqlx::query("ROLLBACK").execute(&mut shadow.conn).await?;
            return Err(error);
        }
    };
    let swap = swap_started.elapsed();
    drop(turn);
    drop_retired(&mut shadow.conn, gate, &shadow.schemas).await?;
    on_progress(head, head);
    let report = RebuildReport {
        events: shadow.events,
        elapsed: started.elapsed(),
        swap_events,
        swap,
        position: head,
    };
    shadow.close().await?;
    Ok(report)
}

/// Within the swap transaction: puts each shadow in its live table's place, applies the events
/// committed since the shadow's position (so nothing appended during the rebuild is lost) and
/// moves the checkpoints. Returns the position reached and the events applied.
async fn swap(shadow: &mut Shadow<'_>) -> Result<(i64, u64), ProjectionError> {
    for schema in &shadow.schemas {
        let table = schema.table;
        sqlx::query(&format!(
            "ALTER TABLE main.\"{table}\" RENAME TO \"{}\"",
            retired_name(table)
        ))
        .execute(&mut shadow.conn)
        .await?;
        sqlx::query(&format!(
            "ALTER TABLE main.\"{}\" RENAME TO \"{table}\"",
            shadow_name(table)
        ))
        .execute(&mut shadow.conn)
        .await?;
    }
    let head = event_log::head_position(&mut shadow.conn).await?;
    let applied = shadow.apply_until(head).await?;
    mark_rebuilt(&mut shadow.conn, shadow.projections, head).await?;
    Ok((head, applied))
}

/// Creates empty `main.<table>__rebuild` tables, dropping those an interrupted run left behind.
async fn prepare_main_shadows(
    shadow: &mut Shadow<'_>,
    gate: &WriteGate,
) -> Result<(), sqlx::Error> {
    let _turn = gate.turn().await;
    let mut tx = sqlx::Connection::begin_with(&mut shadow.conn, "BEGIN IMMEDIATE").await?;
    for schema in &shadow.schemas {
        sqlx::query(&format!(
            "DROP TABLE IF EXISTS main.\"{}\"",
            shadow_name(schema.table)
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&schema.create_shadow_table_in_main())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Moves the rebuilt projections' checkpoints to `position` and records when they were rebuilt.
async fn mark_rebuilt(
    conn: &mut SqliteConnection,
    projections: &[Arc<dyn Projection>],
    position: i64,
) -> Result<(), sqlx::Error> {
    let rebuilt_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for projection in projections {
        sqlx::query(
            "INSERT INTO projection_checkpoints (projection, position, rebuilt_at) VALUES (?, ?, ?)
             ON CONFLICT (projection) DO UPDATE SET position = excluded.position,
                                                    rebuilt_at = excluded.rebuilt_at",
        )
        .bind(projection.name())
        .bind(position)
        .bind(&rebuilt_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
