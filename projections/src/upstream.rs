//! Where a node's copy of the log comes from when the log itself lives elsewhere: on
//! PostgreSQL, each node keeps its views in a SQLite file of its own, beside a copy of the
//! shared log that it pulls in order (`billstream::store::postgres::mirror`). The projector
//! pulls before each catch-up, so a command's own events — committed on PostgreSQL — are in
//! the node's views when the command answers, as on SQLite.

use async_trait::async_trait;

/// The shared log a node copies before it applies events.
#[async_trait]
pub trait Upstream: Send + Sync {
    /// Copies every event the shared log holds beyond the node's copy; returns how many.
    async fn pull(&self) -> Result<u64, UpstreamError>;
}

/// Why the shared log could not be copied (the message names no secret: no URL).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UpstreamError(pub String);
