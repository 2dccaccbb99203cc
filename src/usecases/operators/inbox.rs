//! The webhook inbox for operators: pages of stored Stripe events, one event in full, and
//! putting a failed or parked event back in the queue (the worker then applies it as usual:
//! each Stripe event changes its aggregate at most once, whoever queues it).

use std::sync::Arc;

use tokio::sync::Notify;

use crate::error::AppError;
use crate::inbox::{Inbox, InboxEntry, InboxRecord, InboxStatus, Retry};

/// A page of stored events, oldest first, and where the next one starts.
#[derive(Debug, Clone)]
pub struct InboxPage {
    pub entries: Vec<InboxEntry>,
    pub next_after: Option<i64>,
}

/// Up to `limit` stored events after arrival number `after`, in `status` (all when `None`).
pub async fn list(
    inbox: &Inbox,
    status: Option<InboxStatus>,
    after: i64,
    limit: i64,
) -> Result<InboxPage, AppError> {
    let mut entries = inbox.page(status, after, limit + 1).await?;
    let more = entries.len() as i64 > limit;
    entries.truncate(limit.max(0) as usize);
    let next_after = more.then(|| entries.last().map(|last| last.seq)).flatten();
    Ok(InboxPage {
        entries,
        next_after,
    })
}

/// The stored event `event_id` (404 when none).
pub async fn show(inbox: &Inbox, event_id: &str) -> Result<InboxRecord, AppError> {
    inbox.find(event_id).await?.ok_or(AppError::NotFound)
}

/// Queues event `event_id` again and wakes the worker. An applied event is left alone and
/// said so (the caller answers 409); an unknown one is 404.
pub async fn retry(inbox: &Inbox, wake: &Arc<Notify>, event_id: &str) -> Result<Retry, AppError> {
    let outcome = inbox.retry(event_id).await?;
    match outcome {
        Retry::Queued => wake.notify_one(),
        Retry::Unknown => return Err(AppError::NotFound),
        Retry::AlreadyApplied => {}
    }
    Ok(outcome)
}
