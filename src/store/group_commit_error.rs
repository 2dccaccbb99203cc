//! Why a group-committed job did not commit, and the SQLite code of a rejected one (which the
//! event repository reads as an optimistic-lock conflict).

/// Why a job did not commit.
#[derive(Debug, thiserror::Error)]
pub enum GroupCommitError {
    /// The job's own statements failed; they were rolled back, the batch went on.
    #[error(transparent)]
    Rejected(#[from] rusqlite::Error),
    /// The batch's transaction could not begin or commit: nothing of the job was kept.
    #[error("the write transaction failed: {0}")]
    TransactionFailed(String),
    /// The writer has stopped (the service is shutting down).
    #[error("the database writer has stopped")]
    Stopped,
    /// The job panicked (behind its savepoint, what it did was rolled back); the batch went on.
    #[error("the write job failed unexpectedly")]
    Panicked,
    /// The writer could not open its connection.
    #[error("cannot open the writer's connection: {0}")]
    Open(String),
}

impl GroupCommitError {
    /// SQLite's extended result code of a rejected job's failure (e.g. 1555, a primary key).
    pub fn sqlite_code(&self) -> Option<i32> {
        match self {
            Self::Rejected(rusqlite::Error::SqliteFailure(failure, _)) => {
                Some(failure.extended_code)
            }
            _ => None,
        }
    }
}
