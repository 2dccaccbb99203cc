//! The one SQLite file: connection pool and migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::checkpoints;
use crate::config::{Config, Synchronous};

/// The schema: event store, projections, sandbox tables. Applied at start-up and by
/// `billstream migrate`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens (creating if missing) the database in WAL mode with the configured durability.
pub async fn connect(config: &Config) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(&config.database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match config.database_synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        })
        .foreign_keys(true)
        // Writers queue on SQLite's single write lock; wait rather than fail under load.
        .busy_timeout(Duration::from_secs(15));
    let wal = checkpoints::signal_for(options.get_filename());
    SqlitePoolOptions::new()
        .max_connections(8)
        // A file's connection cannot go stale as a network one can: sqlx's ping before each
        // acquire would only cost one more round trip to the connection's thread.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                let raw = handle.as_raw_handle();
                // SAFETY: the handle is this open connection's, locked for the call; the busy
                // handler is a plain function with no user data, the WAL hook's data 'static.
                unsafe {
                    libsqlite3_sys::sqlite3_busy_handler(
                        raw.as_ptr(),
                        Some(retry_soon),
                        std::ptr::null_mut(),
                    );
                    // Checkpoints leave the commit path (`checkpoints`).
                    checkpoints::install(raw.as_ptr(), wal);
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// How long a writer waits for SQLite's write lock before giving up (as `busy_timeout` did).
const BUSY_PATIENCE: Duration = Duration::from_secs(15);

/// SQLite's own busy handler sleeps 1, 2, 5, 10 … up to 100 ms between attempts, so a write
/// that meets the lock for a moment can lose a tenth of a second. Writers here hold the lock
/// for a fraction of a millisecond, so retry soon: 50 µs doubling to 1 ms, then every
/// millisecond, for `BUSY_PATIENCE` in all.
extern "C" fn retry_soon(_: *mut std::ffi::c_void, attempts: std::ffi::c_int) -> std::ffi::c_int {
    std::ffi::c_int::from(keep_trying(attempts))
}

/// The busy handler's decision, shared by the pool's connections and the group-commit
/// writer's: sleeps before the next attempt and answers true, or answers false once
/// `BUSY_PATIENCE` has passed.
pub(crate) fn keep_trying(attempts: i32) -> bool {
    const RAMP: i32 = 5;
    let attempts = attempts.max(0);
    let waited_ms = if attempts < RAMP {
        0
    } else {
        i64::from(attempts - RAMP) + 2
    };
    if waited_ms >= BUSY_PATIENCE.as_millis() as i64 {
        return false;
    }
    let delay = if attempts < RAMP {
        Duration::from_micros(50 << attempts)
    } else {
        Duration::from_millis(1)
    };
    std::thread::sleep(delay);
    true
}

/// Applies every pending migration.
pub async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}
