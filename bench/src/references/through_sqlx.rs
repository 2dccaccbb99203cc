//! The same inserts and scan through sqlx, as billstream reaches SQLite: every statement is a
//! message to the connection's own thread and a wake-up back. Kept as extra rows, beside the
//! direct references, because earlier reports used them as references and because the gap
//! between the two is the cost of that hop alone.

use std::path::Path;
use std::time::Instant;

use billstream_bench::load;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::{aggregate_id, payload, InsertFigures, EVENT_LOG_TABLE, INSERT_EVENT, SCAN_LOG};

/// The SQLite library sqlx calls, as SQLite itself reports it.
pub async fn sqlite_version() -> anyhow::Result<String> {
    let mut conn = SqliteConnectOptions::new()
        .in_memory(true)
        .connect()
        .await?;
    Ok(sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await?)
}

/// As [`super::direct::inserts`], through sqlx.
pub async fn inserts(path: &Path, single: usize, batches: usize) -> anyhow::Result<InsertFigures> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query(EVENT_LOG_TABLE).execute(&mut conn).await?;
    let payload = payload();
    let mut latencies = Vec::with_capacity(single);
    let started = Instant::now();
    for i in 0..single {
        let sent = Instant::now();
        let mut tx = conn.begin().await?;
        insert(&mut tx, i, &payload).await?;
        tx.commit().await?;
        latencies.push(sent.elapsed());
    }
    let single_rows_per_s = single as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let started = Instant::now();
    let mut next = single;
    for _ in 0..batches {
        let mut tx = conn.begin().await?;
        for _ in 0..100 {
            insert(&mut tx, next, &payload).await?;
            next += 1;
        }
        tx.commit().await?;
    }
    let batched_rows_per_s = (batches * 100) as f64 / started.elapsed().as_secs_f64();
    Ok(InsertFigures {
        single_rows_per_s,
        single_p99: load::quantile(&latencies, 0.99),
        batched_rows_per_s,
    })
}

async fn insert(conn: &mut SqliteConnection, i: usize, payload: &str) -> sqlx::Result<()> {
    sqlx::query(INSERT_EVENT)
        .bind(aggregate_id(i))
        .bind(payload)
        .bind(i as i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// As [`super::direct::scan`], through sqlx (each row decoded into owned values).
pub async fn scan(database_url: &str) -> anyhow::Result<f64> {
    use futures::TryStreamExt;
    let options: SqliteConnectOptions = database_url.parse()?;
    let mut conn = options.connect().await?;
    let started = Instant::now();
    let mut rows =
        sqlx::query_as::<_, (String, String, i64, String, String, String, String, i64)>(SCAN_LOG)
            .fetch(&mut conn);
    let mut count = 0u64;
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        count += 1;
        bytes += row.5.len();
    }
    std::hint::black_box(bytes);
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
