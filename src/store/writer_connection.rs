//! The group-commit writer's own SQLite connection (`group_commit`): the pool's file, opened
//! with rusqlite, with the pool's durability and busy handler, so the writer's commits are
//! exactly as durable as the pool's would be. The sandbox opens its connections on the node's
//! file the same way (`open_writing_connection`) and begins its transactions with
//! `try_begin_immediate`.

use std::path::PathBuf;

use sqlx::SqlitePool;

use super::checkpoints;
use super::group_commit::GroupCommitError;
use super::pool::keep_trying;

/// A connection of its own on `pool`'s file, opened as the group-commit writer's is (the pool's
/// durability, its busy handler, checkpoints left to the checkpointer): for a writer that runs
/// its statements on its own thread, without sqlx's hop per statement (the sandbox's).
pub async fn open_writing_connection(
    pool: &SqlitePool,
) -> Result<rusqlite::Connection, GroupCommitError> {
    WriterConnection::of(pool)
        .await?
        .open()
        .map_err(|error| GroupCommitError::Open(error.to_string()))
}

/// Begins a write transaction on `db` if SQLite's write lock is free at once, without the busy
/// handler's sleeps, so that it may run on an async worker: true when begun; false when another
/// connection holds the lock (the caller then begins where waiting blocks nothing).
pub fn try_begin_immediate(db: &rusqlite::Connection) -> Result<bool, rusqlite::Error> {
    db.busy_handler(None)?;
    let begun = db.execute_batch("BEGIN IMMEDIATE");
    if let Err(error) = db.busy_handler(Some(keep_trying)) {
        // Never hand back a connection left inside a transaction the caller does not know of.
        if begun.is_ok() {
            let _ = db.execute_batch("ROLLBACK");
        }
        return Err(error);
    }
    match begun {
        Ok(()) => Ok(true),
        Err(error) if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// How the writer's connection is opened: the pool's file and durability.
pub(super) struct WriterConnection {
    path: PathBuf,
    synchronous: i64,
    foreign_keys: bool,
}

impl WriterConnection {
    /// Reads the file and the pragmas the pool's connections run with, so the writer's
    /// commits are exactly as durable as theirs.
    pub(super) async fn of(pool: &SqlitePool) -> Result<Self, GroupCommitError> {
        let path = pool.connect_options().get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Err(GroupCommitError::Open(
                "the writer needs a database file, not an in-memory database".into(),
            ));
        }
        let open = |error: sqlx::Error| GroupCommitError::Open(error.to_string());
        // sqlx names an in-memory pool `file:sqlx-in-memory-N`, and `?mode=memory` keeps
        // whatever file name the URL gave: a connection opened on that name would be another,
        // on-disk database. SQLite itself knows: its main database has no file.
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(pool)
                .await
                .map_err(open)?;
        if file.is_empty() {
            return Err(GroupCommitError::Open(
                "the writer needs a database file, not an in-memory database".into(),
            ));
        }
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .map_err(open)?;
        let foreign_keys: bool = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .map_err(open)?;
        Ok(Self {
            path,
            synchronous,
            foreign_keys,
        })
    }

    pub(super) fn open(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        let db = rusqlite::Connection::open(&self.path)?;
        db.pragma_update(None, "synchronous", self.synchronous)?;
        db.pragma_update(None, "foreign_keys", self.foreign_keys)?;
        // Each job runs behind a savepoint, whose sub-journal (the pages' images before the job)
        // SQLite keeps in memory only up to 64 KiB per transaction and then spills to a
        // temporary file: a batch of hundreds of jobs wrote every page image there, with a
        // `pwrite` for each and one more for its page number, ~14% of the writer thread's time
        // in a webhook burst (BENCHMARKS.md, stop 34). In memory it costs a copy; it is
        // emptied at each commit, so it holds at most one batch's pages. This connection
        // creates no TEMP tables (the rebuild's shadows have a connection of their own).
        db.pragma_update(None, "temp_store", "MEMORY")?;
        // Other processes (the CLI, an operator's `sqlite3`) may hold the write lock a moment.
        db.busy_handler(Some(keep_trying))?;
        db.set_prepared_statement_cache_capacity(64);
        // SAFETY: `db` was opened above and is not shared yet.
        unsafe { checkpoints::install(db.handle(), checkpoints::signal_for(&self.path)) };
        Ok(db)
    }
}
