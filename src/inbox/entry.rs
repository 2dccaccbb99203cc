//! What the inbox stores and answers, whichever database holds it: an event's status, its
//! row, what an operator's retry did, and the backoff between attempts.

use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use sqlx::FromRow;

use crate::store::group_commit::GroupCommitError;

/// Where an event stands. Rows written by older versions may also say `deferred` (invoice
/// events kept until the invoice aggregate existed); nothing writes it any more, and
/// `billstream inbox retry --deferred` still queues such rows again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    /// Waiting to be applied (or to be retried).
    Pending,
    /// Applied to its aggregate (possibly as a recorded stale event).
    Applied,
    /// A type billstream does not act on; kept for the record.
    Ignored,
    /// About a Stripe customer billstream does not know.
    UnknownCustomer,
    /// Failed too often; waits for an operator (`billstream inbox retry`).
    Parked,
}

impl InboxStatus {
    /// Every status an event can be in now (older rows may also say `deferred`).
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Applied,
        Self::Ignored,
        Self::UnknownCustomer,
        Self::Parked,
    ];

    /// The status spelled `raw`, if it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// The stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Ignored => "ignored",
            Self::UnknownCustomer => "unknown_customer",
            Self::Parked => "parked",
        }
    }
}

/// One stored event.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct InboxEntry {
    pub seq: i64,
    pub event_id: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub object_id: Option<String>,
    pub created: i64,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: String,
    #[serde(skip)]
    pub payload: String,
}

/// One stored event with everything the inbox knows of it, for operators.
#[derive(Debug, Clone, FromRow)]
pub struct InboxRecord {
    #[sqlx(flatten)]
    pub entry: InboxEntry,
    pub object_type: Option<String>,
    pub livemode: bool,
    /// When the worker tries it next (Unix milliseconds), while pending.
    pub next_attempt_at: i64,
    /// When it was last applied, ignored or marked (RFC 3339).
    pub processed_at: Option<String>,
}

/// What an operator's retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again, due now.
    Queued,
    /// Applied already: applying it again would change nothing, so it is left as is.
    AlreadyApplied,
    /// No event with this id was ever stored.
    Unknown,
}

/// Whether a delivery was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

/// Why the inbox could not record something.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Write(#[from] GroupCommitError),
    /// The shared inbox's batch of deliveries failed (PostgreSQL's message).
    #[error("the shared inbox failed: {0}")]
    Shared(String),
}

/// Failures before an event is parked.
pub const MAX_ATTEMPTS: i64 = 8;

/// What a failure makes of an event that has now failed `attempts` times.
pub fn after_failure(attempts: i64) -> InboxStatus {
    if attempts >= MAX_ATTEMPTS {
        InboxStatus::Parked
    } else {
        InboxStatus::Pending
    }
}

/// 1 s, 2 s, 4 s … capped at 10 minutes, with jitter.
pub fn backoff(attempts: i64) -> Duration {
    let base = Duration::from_secs(1u64 << attempts.clamp(0, 10)).min(Duration::from_secs(600));
    base.mul_f64(rand::rng().random_range(0.8..1.2))
}
