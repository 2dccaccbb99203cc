//! The hot reads (a token's state, a page of payment history, a command's load of its
//! aggregate and its "anything to catch up?" check, the inbox worker's lookups) on SQLite
//! connections of their own, each keeping its prepared statements.
//!
//! `in_thread::read` lends this thread a pooled sqlx connection's handle: one round trip to
//! sqlx's connection thread to take it, and a statement prepared again on every use, because the
//! rusqlite wrapper around a lent handle starts with an empty cache (the profiles in
//! BENCHMARKS.md show `sqlite3RunParser` on the async workers). Here a few connections are
//! opened once, read-only (`query_only`), and a read runs on the first free one from the calling
//! thread with its cached statement: no hop and no parse. A read is a short indexed query, so
//! it runs inline like any other CPU work of the request; when every connection is busy it
//! takes the pooled path instead of waiting. Each read sees the last commit, as on the pool
//! (WAL: readers never block the writer, nor it them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::SqlitePool;

use crate::direct_rows::{self, DirectRow};
use crate::{in_thread, ProjectionError};

/// How long a reader waits on a lock (a checkpoint truncating the WAL) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads of the node's file.
#[derive(Clone)]
pub struct Readers {
    pool: SqlitePool,
    own: Option<Arc<OwnConnections>>,
}

struct OwnConnections {
    connections: Vec<Mutex<rusqlite::Connection>>,
    /// Where the next read starts looking, so reads spread over the connections.
    next: AtomicUsize,
}

impl Readers {
    /// Reads through `pool` alone (a lent handle per read).
    pub fn pooled(pool: SqlitePool) -> Self {
        Self { pool, own: None }
    }

    /// Opens `count` read-only connections to `pool`'s file for the hot reads (reads through
    /// `pool` when it is an in-memory database, which other connections cannot open).
    pub fn open(pool: SqlitePool, count: usize) -> Result<Self, ProjectionError> {
        let path = pool.connect_options().get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || count == 0 {
            return Ok(Self::pooled(pool));
        }
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count {
            let db = rusqlite::Connection::open(&path)?;
            db.pragma_update(None, "query_only", true)?;
            db.busy_timeout(BUSY_TIMEOUT)?;
            db.set_prepared_statement_cache_capacity(32);
            connections.push(Mutex::new(db));
        }
        Ok(Self {
            pool,
            own: Some(Arc::new(OwnConnections {
                connections,
                next: AtomicUsize::new(0),
            })),
        })
    }

    /// The pool the other reads and writes use.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs `query` on a free connection of its own from this thread, or on a pooled one's
    /// handle when all are busy.
    pub async fn read<T>(
        &self,
        query: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ProjectionError> {
        if let Some(own) = &self.own {
            let count = own.connections.len();
            let start = own.next.fetch_add(1, Ordering::Relaxed);
            for offset in 0..count {
                // A connection whose read panicked is still sound: SQLite ended its statement.
                let locked = match own.connections[(start + offset) % count].try_lock() {
                    Ok(db) => Some(db),
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                };
                if let Some(db) = locked {
                    return Ok(query(&db)?);
                }
            }
        }
        in_thread::read(&self.pool, query).await
    }

    /// The row of `R`'s view whose `key` column is `value`, if any (`direct_rows::find`).
    pub async fn find<R: DirectRow>(
        &self,
        key: &'static str,
        value: &str,
    ) -> Result<Option<R>, ProjectionError> {
        self.read(|db| direct_rows::find::<R>(db, key, value)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

    async fn file_pool(dir: &tempfile::TempDir) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("reads.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    fn count(db: &rusqlite::Connection) -> rusqlite::Result<i64> {
        db.prepare_cached("SELECT COUNT(*) FROM t")?
            .query_row([], |row| row.get(0))
    }

    #[tokio::test]
    async fn a_reader_sees_every_commit_and_refuses_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(&dir).await;
        let readers = Readers::open(pool.clone(), 2).unwrap();
        assert_eq!(readers.read(count).await.unwrap(), 0);
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(readers.read(count).await.unwrap(), 1);
        let write = readers
            .read(|db| db.execute("INSERT INTO t VALUES (2)", []))
            .await;
        assert!(write.is_err(), "a reader wrote");
        assert_eq!(readers.read(count).await.unwrap(), 1);
    }

    #[tokio::test]
    // The guard is held across the read on purpose: it is the busy connection.
    #[allow(clippy::await_holding_lock)]
    async fn a_read_finding_every_connection_busy_takes_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(&dir).await;
        let readers = Readers::open(pool, 1).unwrap();
        let own = readers.own.clone().expect("connections of its own");
        let _busy = own.connections[0].lock().unwrap();
        assert_eq!(readers.read(count).await.unwrap(), 0);
    }
}
