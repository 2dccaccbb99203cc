//! Why the service could not start: one variant per part `Application::build` opens.

use std::net::SocketAddr;

use crate::mail::MailError;
use crate::provider::ProviderError;
use crate::usecases::plans::CatalogError;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the payment provider: {0}")]
    Gateway(#[from] ProviderError),
    #[error(transparent)]
    Plans(#[from] CatalogError),
    #[error("cannot set up e-mail: {0}")]
    Mail(#[from] MailError),
    #[error(transparent)]
    Lock(#[from] crate::store::lock::LockError),
    #[error("cannot start the database writer: {0}")]
    Writer(#[from] crate::store::group_commit::GroupCommitError),
    #[error("cannot open the database's readers: {0}")]
    Readers(#[from] projections::ProjectionError),
    #[error("cannot open the shared log on PostgreSQL: {0}")]
    SharedLog(String),
}
