//! The durable inbox of provider events: stored before they are acknowledged, applied after,
//! retried with backoff, parked after too many failures, re-queued by operators. It keeps the
//! raw body as delivered; the worker decodes it when it applies it.
//!
//! It lives in the node's own SQLite file (`node_store`), or, with several nodes on
//! PostgreSQL, in the database they share (`shared_store`), where any node stores a delivery
//! and any node applies it. Both answer the same calls the same way.

use std::collections::HashSet;

pub use super::entry::{
    InboxEntry, InboxError, InboxRecord, InboxStatus, Retry, Stored, MAX_ATTEMPTS,
};
use super::node_store::NodeInbox;
use super::shared_store::SharedInbox;
use crate::provider::EventEnvelope;

/// The inbox, wherever it lives.
#[derive(Clone)]
pub enum Inbox {
    /// The node's own file.
    Node(NodeInbox),
    /// The nodes' shared database.
    Shared(SharedInbox),
}

/// Runs `$body` with `$inbox` bound to whichever inbox `$self` is.
macro_rules! on_inbox {
    ($self:expr, $inbox:ident => $body:expr) => {
        match $self {
            Inbox::Node($inbox) => $body,
            Inbox::Shared($inbox) => $body,
        }
    };
}

impl Inbox {
    /// Commits a verified event (the raw body, as delivered) unless its id is already stored;
    /// returns once the row is durable.
    pub async fn store(&self, event: &EventEnvelope, raw: &[u8]) -> Result<Stored, InboxError> {
        on_inbox!(self, inbox => inbox.store(event, raw).await)
    }

    /// Due events for this node's worker, oldest Stripe time first (so the events of one
    /// object come in the order Stripe created them), arrival order breaking ties. On the
    /// shared inbox they are claimed for this node, one per object at a time.
    pub async fn due(&self, limit: i64) -> Result<Vec<InboxEntry>, sqlx::Error> {
        on_inbox!(self, inbox => inbox.due(limit).await)
    }

    /// Records how processing ended for several events: one statement on the shared inbox;
    /// on the node's, one write each, all group-committed together.
    pub async fn finish_all(&self, outcomes: &[(i64, InboxStatus)]) -> Result<(), InboxError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        match self {
            Inbox::Node(inbox) => {
                let finished = futures::future::join_all(
                    outcomes
                        .iter()
                        .map(|(seq, status)| inbox.finish(*seq, *status)),
                )
                .await;
                finished.into_iter().collect()
            }
            Inbox::Shared(inbox) => inbox.finish_all(outcomes).await,
        }
    }

    /// Records a failure: retried later with backoff, or parked after `MAX_ATTEMPTS`.
    pub async fn fail(&self, entry: &InboxEntry, error: &str) -> Result<InboxStatus, InboxError> {
        on_inbox!(self, inbox => inbox.fail(entry, error).await)
    }

    /// Events in a status (all when `None`), newest first.
    pub async fn list(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, sqlx::Error> {
        on_inbox!(self, inbox => inbox.list(status, limit).await)
    }

    /// Events after arrival number `after`, oldest first, in `status` (all when `None`).
    pub async fn page(
        &self,
        status: Option<InboxStatus>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, sqlx::Error> {
        on_inbox!(self, inbox => inbox.page(status, after, limit).await)
    }

    /// Which of `event_ids` the inbox holds, in any status.
    pub async fn known(&self, event_ids: &[&str]) -> Result<HashSet<String>, sqlx::Error> {
        on_inbox!(self, inbox => inbox.known(event_ids).await)
    }

    /// The event stored under Stripe id `event_id`, with its attempts and times.
    pub async fn find(&self, event_id: &str) -> Result<Option<InboxRecord>, sqlx::Error> {
        on_inbox!(self, inbox => inbox.find(event_id).await)
    }

    /// Queues event `event_id` again, due now with a fresh count of attempts, unless it is
    /// applied; the check and the change are one statement, so a retry racing the worker's
    /// success cannot queue an applied event again.
    pub async fn retry(&self, event_id: &str) -> Result<Retry, InboxError> {
        on_inbox!(self, inbox => inbox.retry(event_id).await)
    }

    /// Puts events back in the queue: one by id, or every event in `status`. Returns how many.
    pub async fn requeue(&self, event_id: Option<&str>, status: &str) -> Result<u64, sqlx::Error> {
        on_inbox!(self, inbox => inbox.requeue(event_id, status).await)
    }
}
