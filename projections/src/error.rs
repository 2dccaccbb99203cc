//! Errors of the read side.

/// Why a projection could not be read or updated.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database refused or failed a statement run on its handle directly (`in_thread`).
    #[error("database error: {0}")]
    Direct(#[from] rusqlite::Error),
    /// A projection that owns tables (a view) did not describe its writes: views must, so
    /// that they can be applied a batch at a time and rebuilt.
    #[error("the view {0} does not describe its writes")]
    NotAView(&'static str),
    /// No view of that name (the names are the projections' own).
    #[error("no view named {0}")]
    UnknownProjection(String),
    /// `verify` never found the live views at one position (they kept being written apart).
    #[error("the live views did not settle at one position; run the verify again")]
    Unsettled,
    /// The shared log (PostgreSQL) could not be copied into the node's file.
    #[error(transparent)]
    Upstream(#[from] crate::UpstreamError),
    /// Another rebuild of this view is running, in this process or another.
    #[error("a rebuild of {0} is running already; wait for it to finish")]
    RebuildRunning(&'static str),
    /// A rebuild's lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    RebuildLock {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A stored event could not be decoded by the projection that needs it.
    #[error("event at position {position} ({event_type}) could not be decoded: {source}")]
    Decode {
        position: i64,
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}
