//! The repository every command's event store uses: the node's own SQLite log
//! (`event_repository`), or — when the node runs on PostgreSQL — the shared log there
//! (`postgres::PgEventRepository`), with its copy in the node's file (`postgres::mirror`).
//!
//! On the shared log, a refused append (another command took the aggregate's next sequence,
//! or a claim — an e-mail, an invoice number, a plan — the use case will now look up) is
//! reported only after the node's copy holds the log up to that moment, so the lookups the use
//! case makes in the node's file see what refused it.

use std::sync::Arc;

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::Value;

use super::event_repository::GroupCommitEventRepository;
use super::postgres::mirror::LogMirror;
use super::postgres::PgEventRepository;

/// The shared log on PostgreSQL and this node's copy of it.
#[derive(Clone)]
pub struct SharedLog {
    pub repository: PgEventRepository,
    pub pool: sqlx::PgPool,
    pub mirror: Arc<LogMirror>,
}

/// Where a command's events are read and appended.
// Built once per framework at start-up and never moved again: the size gap costs nothing,
// and boxing would add a pointer chase to every command on SQLite.
#[allow(clippy::large_enum_variant)]
pub enum LogRepository {
    /// The node's own SQLite log.
    Node(GroupCommitEventRepository),
    /// The log shared by every node, on PostgreSQL.
    Shared(SharedLog),
}

impl PersistedEventRepository for LogRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            Self::Node(node) => node.get_events::<A>(aggregate_id).await,
            Self::Shared(shared) => shared.repository.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            Self::Node(node) => node.get_last_events::<A>(aggregate_id, last_sequence).await,
            Self::Shared(shared) => {
                shared
                    .repository
                    .get_last_events::<A>(aggregate_id, last_sequence)
                    .await
            }
        }
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        match self {
            Self::Node(node) => node.get_snapshot::<A>(aggregate_id).await,
            Self::Shared(shared) => shared.repository.get_snapshot::<A>(aggregate_id).await,
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        match self {
            Self::Node(node) => node.persist::<A>(events, snapshot_update).await,
            Self::Shared(shared) => {
                let appended = shared
                    .repository
                    .persist::<A>(events, snapshot_update)
                    .await;
                if let Err(PersistenceError::OptimisticLockError) = &appended {
                    if let Err(error) = shared.mirror.pull_all().await {
                        tracing::warn!(%error, "the node's copy of the log lags after a refused append");
                    }
                }
                appended
            }
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Node(node) => node.stream_events::<A>(aggregate_id).await,
            Self::Shared(shared) => shared.repository.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match self {
            Self::Node(node) => node.stream_all_events::<A>().await,
            Self::Shared(shared) => shared.repository.stream_all_events::<A>().await,
        }
    }
}
