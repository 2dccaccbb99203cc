//! WAL checkpoints off the commit path.
//!
//! SQLite's default (`wal_autocheckpoint`, 1,000 pages) runs a checkpoint inside the commit that
//! crosses the mark: that commit, and the request waiting on it, pays for copying every page
//! back into the database file and its fsyncs, several milliseconds here, once in every few
//! dozen commands (BENCHMARKS.md, stop 30). Here every connection that writes the file (the
//! pool's, the group-commit writer's) reports its commits to a WAL hook instead. Past
//! [`SOFT_LIMIT`] frames the hook wakes the service's checkpointer, a background task running
//! `PRAGMA wal_checkpoint(PASSIVE)`, which neither waits for nor blocks writers and readers.
//! Past [`HARD_LIMIT`] (no checkpointer running, as in the CLI, or one that cannot keep up) the
//! committing connection checkpoints itself, as SQLite's default would, so the WAL stays
//! bounded whatever runs.
//!
//! Durability is unchanged: a commit is durable once its frames are synced to the WAL; a
//! checkpoint only moves committed pages into the main file.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use libsqlite3_sys as ffi;
use sqlx::SqlitePool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Frames in the WAL past which the checkpointer is woken (SQLite's own default mark).
pub const SOFT_LIMIT: c_int = 1_000;

/// Frames past which the committing connection checkpoints itself (32 MiB of 4 KiB pages).
pub const HARD_LIMIT: c_int = 8 * SOFT_LIMIT;

/// The least time between two background checkpoints: commits arriving meanwhile are folded
/// into the next one rather than each starting its own.
const MIN_GAP: Duration = Duration::from_millis(20);

/// One database file's checkpoint signal and counts. Lives as long as the process: SQLite's
/// connections hold a pointer to it.
#[derive(Default)]
pub struct WalSignal {
    wake: Notify,
    background: AtomicU64,
    inline: AtomicU64,
}

impl WalSignal {
    /// Checkpoints the background task has run.
    pub fn background_checkpoints(&self) -> u64 {
        self.background.load(Ordering::Relaxed)
    }

    /// Checkpoints commits ran themselves (past [`HARD_LIMIT`]).
    pub fn inline_checkpoints(&self) -> u64 {
        self.inline.load(Ordering::Relaxed)
    }
}

/// The signal of the database at `path`, made on first use; one per file in the process.
pub fn signal_for(path: &Path) -> &'static WalSignal {
    static SIGNALS: OnceLock<Mutex<HashMap<PathBuf, &'static WalSignal>>> = OnceLock::new();
    let mut signals = SIGNALS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    signals
        .entry(path.to_path_buf())
        // One small allocation per database file the process opens, kept for its life:
        // connections may outlive any owner we could give it.
        .or_insert_with(|| Box::leak(Box::default()))
}

/// Replaces `db`'s automatic checkpoint with [`on_commit`] reporting to `signal`.
///
/// # Safety
/// `db` must be an open connection, not used by another thread during the call.
pub unsafe fn install(db: *mut ffi::sqlite3, signal: &'static WalSignal) {
    // SAFETY: per the caller; the hook's data is 'static.
    unsafe {
        ffi::sqlite3_wal_hook(
            db,
            Some(on_commit),
            signal as *const WalSignal as *mut c_void,
        );
    }
}

/// SQLite's WAL hook, called after each commit with the frames now in the log.
extern "C" fn on_commit(
    data: *mut c_void,
    db: *mut ffi::sqlite3,
    name: *const c_char,
    frames: c_int,
) -> c_int {
    // SAFETY: `data` is the &'static WalSignal given to `install`.
    let signal = unsafe { &*(data as *const WalSignal) };
    if frames >= HARD_LIMIT {
        // SAFETY: SQLite calls the hook on the committing connection, outside any transaction,
        // where a checkpoint is allowed (its own default hook does the same).
        unsafe { ffi::sqlite3_wal_checkpoint(db, name) };
        signal.inline.fetch_add(1, Ordering::Relaxed);
    } else if frames >= SOFT_LIMIT {
        signal.wake.notify_one();
    }
    ffi::SQLITE_OK
}

/// Runs the background checkpoints of `pool`'s file until aborted.
pub fn spawn_checkpointer(pool: SqlitePool, signal: &'static WalSignal) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            signal.wake.notified().await;
            let outcome: Result<(i64, i64, i64), sqlx::Error> =
                sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(&pool)
                    .await;
            match outcome {
                Ok(_) => {
                    signal.background.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => tracing::warn!(%error, "WAL checkpoint failed; will retry"),
            }
            tokio::time::sleep(MIN_GAP).await;
        }
    })
}
