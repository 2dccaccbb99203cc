//! SQLite called directly: rusqlite on a plain thread, prepared statements, WAL,
//! `synchronous=FULL`. No async hop, no connection thread: what the storage costs by itself,
//! and so the floor billstream's storage-bound figures are measured against.
//!
//! rusqlite links the very `sqlite3` that sqlx links (one libsqlite3-sys in the build);
//! [`sqlite_version`] lets the run check that and print it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::ensure;
use rusqlite::{params, Connection, OpenFlags};

use super::{aggregate_id, payload, InsertFigures, EVENT_LOG_TABLE, INSERT_EVENT, SCAN_LOG};
use billstream_bench::load;

/// The SQLite library rusqlite calls (`sqlite3_libversion`).
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// Inserts `single` rows one per transaction, then `batches` transactions of 100 rows, into
/// a fresh event-log-shaped table at `path`.
pub async fn inserts(
    path: PathBuf,
    single: usize,
    batches: usize,
) -> anyhow::Result<InsertFigures> {
    tokio::task::spawn_blocking(move || inserts_on_this_thread(&path, single, batches)).await?
}

fn inserts_on_this_thread(
    path: &std::path::Path,
    single: usize,
    batches: usize,
) -> anyhow::Result<InsertFigures> {
    let mut conn = Connection::open(path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    ensure!(
        mode == "wal",
        "the reference database is in {mode} mode, not WAL"
    );
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(EVENT_LOG_TABLE)?;
    let payload = payload();

    let mut latencies = Vec::with_capacity(single);
    let started = Instant::now();
    for i in 0..single {
        let sent = Instant::now();
        let tx = conn.transaction()?;
        insert(&tx, i, &payload)?;
        tx.commit()?;
        latencies.push(sent.elapsed());
    }
    let single_rows_per_s = single as f64 / started.elapsed().as_secs_f64();
    latencies.sort();

    let started = Instant::now();
    let mut next = single;
    for _ in 0..batches {
        let tx = conn.transaction()?;
        for _ in 0..100 {
            insert(&tx, next, &payload)?;
            next += 1;
        }
        tx.commit()?;
    }
    let batched_rows_per_s = (batches * 100) as f64 / started.elapsed().as_secs_f64();
    Ok(InsertFigures {
        single_rows_per_s,
        single_p99: load::quantile(&latencies, 0.99),
        batched_rows_per_s,
    })
}

/// One row through the connection's cached prepared statement.
fn insert(conn: &Connection, i: usize, payload: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT_EVENT)?
        .execute(params![aggregate_id(i), payload, i as i64])?;
    Ok(())
}

/// Reads the whole log at `path` in position order, taking every column's value out of
/// SQLite (text borrowed, not copied: what SQLite delivers, before any decoding of ours).
/// Returns the rows read and the rate.
pub async fn scan(path: PathBuf) -> anyhow::Result<(u64, f64)> {
    tokio::task::spawn_blocking(move || scan_on_this_thread(&path)).await?
}

fn scan_on_this_thread(path: &std::path::Path) -> anyhow::Result<(u64, f64)> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut statement = conn.prepare(SCAN_LOG)?;
    let started = Instant::now();
    let mut rows = statement.query([])?;
    let (mut count, mut bytes, mut sum) = (0u64, 0usize, 0i64);
    while let Some(row) = rows.next()? {
        count += 1;
        for text in [0, 1, 3, 4, 5, 6] {
            bytes += row.get_ref(text)?.as_str()?.len();
        }
        sum = sum.wrapping_add(row.get::<_, i64>(2)? ^ row.get::<_, i64>(7)?);
    }
    std::hint::black_box((bytes, sum));
    Ok((count, count as f64 / started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_land_and_the_scan_reads_them_back_in_order() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("direct.db");
        let figures = inserts_on_this_thread(&path, 5, 2).expect("the inserts run");
        assert!(figures.single_rows_per_s > 0.0 && figures.batched_rows_per_s > 0.0);
        let (rows, rate) = scan_on_this_thread(&path).expect("the scan runs");
        assert_eq!(rows, 205);
        assert!(rate > 0.0);
    }
}
