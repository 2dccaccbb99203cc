//! Who holds the database file: every running server holds a shared lock on `<database>.lock`
//! (two servers on one database are fine), and `billstream restore` needs it exclusively, so
//! a database is never replaced under a running server. An advisory lock held by the process:
//! the operating system releases it when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0} is in use: a billstream server is running on it (stop it first)")]
    InUse(PathBuf),
    #[error("{0} is being restored; start the server once the restore is done")]
    BeingRestored(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("DATABASE_URL is not a SQLite URL: {0}")]
    Url(#[from] sqlx::Error),
}

/// A held lock on a database; released when dropped.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// The database file a `DATABASE_URL` names (`None` for an in-memory database).
pub fn database_path(database_url: &str) -> Result<Option<PathBuf>, LockError> {
    let options = SqliteConnectOptions::from_str(database_url)?;
    let path = options.get_filename();
    let in_memory = path.as_os_str().is_empty()
        || path.as_os_str() == ":memory:"
        || database_url.contains("mode=memory");
    Ok((!in_memory).then(|| path.to_owned()))
}

fn lock_file(database: &Path) -> Result<(File, PathBuf), LockError> {
    let mut path = database.as_os_str().to_owned();
    path.push(".lock");
    let path = PathBuf::from(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
    Ok((file, path))
}

impl DatabaseLock {
    /// A server's share of database `database`: refused only while a restore holds it.
    pub fn shared(database: &Path) -> Result<Self, LockError> {
        let (file, path) = lock_file(database)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::BeingRestored(database.to_owned())),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }

    /// The whole of database `database`, for a restore: refused while any server runs on it.
    pub fn exclusive(database: &Path) -> Result<Self, LockError> {
        let (file, path) = lock_file(database)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse(database.to_owned())),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }
}
