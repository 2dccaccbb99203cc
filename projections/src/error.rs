//! Errors of the read side.

/// Why a projection could not be read or updated.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored event could not be decoded by the projection that needs it.
    #[error("event at position {position} ({event_type}) could not be decoded: {source}")]
    Decode {
        position: i64,
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}
