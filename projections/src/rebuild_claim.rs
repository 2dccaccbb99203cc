//! One rebuild of a view at a time, across processes. A rebuild stages its rows in
//! `main.<table>__rebuild` and swaps that table in: a second rebuild of the same view (the
//! console's button while an operator runs `billstream replay`, or two nodes' rebuild jobs)
//! would drop the first one's staging table under it, or have it swap in a half-filled one.
//! So each rebuild claims its views first: an exclusive advisory lock on
//! `<database>.rebuild-<view>.lock` per view, held until the claim is dropped. The operating
//! system releases it when the process ends, however it ends, so a crashed rebuild never
//! blocks the next one (which drops what the crashed one left behind).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::SqlitePool;

use crate::{Projection, ProjectionError};

/// The views of one rebuild, claimed: no other rebuild of any of them can start, in this
/// process or another, until this is dropped.
pub struct RebuildClaim {
    pub(crate) projections: Vec<Arc<dyn Projection>>,
    _locks: Vec<File>,
}

impl RebuildClaim {
    /// Claims `projections` of the database behind `pool`. An in-memory database has no other
    /// process; its claim locks nothing.
    pub(crate) fn take(
        pool: &SqlitePool,
        projections: Vec<Arc<dyn Projection>>,
    ) -> Result<Self, ProjectionError> {
        let options = pool.connect_options();
        let database = options.get_filename();
        let in_memory = database.as_os_str().is_empty() || database.as_os_str() == ":memory:";
        let mut locks = Vec::new();
        if !in_memory {
            for projection in &projections {
                locks.push(lock(database, projection.name())?);
            }
        }
        Ok(Self {
            projections,
            _locks: locks,
        })
    }

    /// The names of the claimed views.
    pub fn names(&self) -> Vec<&'static str> {
        self.projections.iter().map(|p| p.name()).collect()
    }
}

fn lock_path(database: &Path, view: &str) -> PathBuf {
    let mut path = database.as_os_str().to_owned();
    path.push(format!(".rebuild-{view}.lock"));
    PathBuf::from(path)
}

/// The exclusive lock on view `view`'s rebuild lock file, or why not.
fn lock(database: &Path, view: &'static str) -> Result<File, ProjectionError> {
    let path = lock_path(database, view);
    let io = |source: std::io::Error| ProjectionError::RebuildLock {
        path: path.display().to_string(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(ProjectionError::RebuildRunning(view)),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_claimed_once_until_its_claim_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("billstream.db");
        let first = lock(&database, "payments").unwrap();
        assert!(matches!(
            lock(&database, "payments"),
            Err(ProjectionError::RebuildRunning("payments"))
        ));
        // Another view is free meanwhile.
        lock(&database, "invoices").unwrap();
        drop(first);
        lock(&database, "payments").unwrap();
    }
}
