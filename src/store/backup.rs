//! Copies of the database for operators. `backup` writes a consistent copy while the service
//! runs: SQLite's `VACUUM INTO` reads one snapshot in one read transaction, which in WAL mode
//! never blocks writers, so the copy holds every transaction committed before it began and
//! nothing of the rest. `inspect` says whether a file is a billstream database with a complete
//! log; `restore` puts such a file in place of a database no server holds, keeping the
//! database it replaces beside it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection, SqlitePool};

use super::lock::{DatabaseLock, LockError};
use super::pool::MIGRATOR;

/// Why a backup, an inspection or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose another file (a backup never overwrites one)")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{path} is not a billstream database: {reason}")]
    NotBillstream { path: PathBuf, reason: String },
    #[error("{path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("{path} holds an incomplete event log: {reason}")]
    IncompleteLog { path: PathBuf, reason: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a checked database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Events in the log (positions 1 to `events`, none missing).
    pub events: i64,
    /// Aggregates whose streams the log holds, each complete from sequence 1.
    pub aggregates: i64,
    /// The last migration applied to it.
    pub schema_version: i64,
    /// Size of the file, bytes.
    pub bytes: u64,
}

/// Writes a consistent copy of the database behind `pool` to `out`, which must not exist,
/// then checks the copy. A failed backup leaves no file behind.
pub async fn backup(pool: &SqlitePool, out: &Path) -> Result<Inspection, BackupError> {
    // Creating the file claims the name atomically: two backups to one file cannot both run.
    // VACUUM INTO accepts an empty file.
    File::create_new(out).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(out.to_owned()),
        _ => io(out)(error),
    })?;
    let copied = async {
        sqlx::query("VACUUM INTO ?")
            .bind(out.to_string_lossy().into_owned())
            .execute(pool)
            .await?;
        // VACUUM INTO does not sync the copy: make it durable before calling it a backup.
        File::open(out)
            .and_then(|file| file.sync_all())
            .map_err(io(out))?;
        inspect(out).await
    }
    .await;
    if copied.is_err() {
        let _ = std::fs::remove_file(out);
    }
    copied
}

async fn open_read_only(path: &Path) -> Result<SqliteConnection, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Missing(path.to_owned()));
    }
    // Immutable: the main file alone is read (what a restore copies), without locks and
    // without creating a WAL or shared-memory file beside it.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    SqliteConnection::connect_with(&options)
        .await
        .map_err(|error| BackupError::NotBillstream {
            path: path.to_owned(),
            reason: error.to_string(),
        })
}

/// Checks that `path` is a sound billstream database (no newer than this billstream) whose
/// log is complete: positions 1 to N with none missing, every stream from sequence 1 on.
pub async fn inspect(path: &Path) -> Result<Inspection, BackupError> {
    let mut conn = open_read_only(path).await?;
    let not_billstream = |reason: String| BackupError::NotBillstream {
        path: path.to_owned(),
        reason,
    };
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|error| not_billstream(error.to_string()))?;
    if check != "ok" {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            reason: check,
        });
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
            AND name IN ('_sqlx_migrations', 'events')",
    )
    .fetch_all(&mut conn)
    .await?;
    if tables.len() != 2 {
        return Err(not_billstream(
            "it has no event log or no migrations".into(),
        ));
    }
    let applied: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut conn)
            .await?;
    for (version, checksum) in &applied {
        let known = MIGRATOR.iter().find(|m| m.version == *version);
        if known.is_none_or(|m| m.checksum.as_ref() != checksum.as_slice()) {
            return Err(not_billstream(format!(
                "its migration {version} is not one of this billstream's (a newer version?)"
            )));
        }
    }
    let (events, last, unpositioned): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MAX(position), 0), COUNT(*) - COUNT(position) FROM events",
    )
    .fetch_one(&mut conn)
    .await?;
    let incomplete = |reason: String| BackupError::IncompleteLog {
        path: path.to_owned(),
        reason,
    };
    if unpositioned > 0 || events != last {
        return Err(incomplete(format!(
            "{events} events for positions 1 to {last}"
        )));
    }
    let (aggregates, broken): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(n <> last OR first <> 1), 0) FROM (
            SELECT COUNT(*) AS n, MAX(sequence) AS last, MIN(sequence) AS first
              FROM events GROUP BY aggregate_type, aggregate_id)",
    )
    .fetch_one(&mut conn)
    .await?;
    if broken > 0 {
        return Err(incomplete(format!(
            "{broken} aggregate stream(s) have missing events"
        )));
    }
    conn.close().await?;
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(Inspection {
        events,
        aggregates,
        schema_version: applied.iter().map(|(v, _)| *v).max().unwrap_or(0),
        bytes,
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub inspection: Inspection,
    /// Where the database it replaced was kept, if there was one.
    pub replaced: Option<PathBuf>,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Puts the billstream database `from` in place of `target`: checked first, refused while a
/// server holds `target`; the replaced database (its WAL folded in) is kept as
/// `<target>.replaced-<time>`.
pub async fn restore(from: &Path, target: &Path) -> Result<Restored, BackupError> {
    let inspection = inspect(from).await?;
    let _lock = DatabaseLock::exclusive(target)?;
    let replaced = if target.exists() {
        // Fold the WAL into the file, so the kept copy is whole on its own.
        let options = SqliteConnectOptions::new().filename(target);
        let mut conn = SqliteConnection::connect_with(&options).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = with_suffix(target, &format!(".replaced-{stamp}"));
        std::fs::rename(target, &aside).map_err(io(target))?;
        Some(aside)
    } else {
        None
    };
    for stale in ["-wal", "-shm"] {
        let path = with_suffix(target, stale);
        if path.exists() {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    // Copied beside the target, synced, then renamed: the target is never half written.
    let partial = with_suffix(target, ".restoring");
    std::fs::copy(from, &partial).map_err(io(&partial))?;
    OpenOptions::new()
        .write(true)
        .open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(io(&partial))?;
    std::fs::rename(&partial, target).map_err(io(target))?;
    if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(folder)
            .and_then(|dir| dir.sync_all())
            .map_err(io(folder))?;
    }
    Ok(Restored {
        inspection,
        replaced,
    })
}
