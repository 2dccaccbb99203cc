//! Drains the inbox: applies due events, records what became of each, retries failures.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::apply::EventApplier;
use super::envelope::StripeEvent;
use super::inbox::{Inbox, InboxEntry, InboxStatus};

/// How long the worker sleeps when nothing wakes it (retries come due on their own).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Events read per pass.
const BATCH: i64 = 200;

/// The inbox worker.
pub struct InboxWorker {
    inbox: Inbox,
    applier: Arc<EventApplier>,
    wake: Arc<Notify>,
}

impl InboxWorker {
    pub fn new(inbox: Inbox, applier: Arc<EventApplier>, wake: Arc<Notify>) -> Self {
        Self {
            inbox,
            applier,
            wake,
        }
    }

    /// Runs until aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.drain().await {
                    tracing::error!(%error, "inbox pass failed; will retry");
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        })
    }

    /// Applies every due event; returns how many were processed.
    pub async fn drain(&self) -> Result<usize, sqlx::Error> {
        let mut processed = 0;
        loop {
            let due = self.inbox.due(BATCH).await?;
            if due.is_empty() {
                return Ok(processed);
            }
            for entry in &due {
                self.process(entry).await?;
            }
            processed += due.len();
        }
    }

    async fn process(&self, entry: &InboxEntry) -> Result<(), sqlx::Error> {
        let Some(event) = StripeEvent::parse(entry.payload.as_bytes()) else {
            self.inbox
                .fail(entry, "the stored body is not a Stripe event")
                .await?;
            return Ok(());
        };
        match self.applier.apply(&event).await {
            Ok(status) => self.inbox.finish(entry.seq, status).await,
            Err(error) => {
                let status = self.inbox.fail(entry, &error.to_string()).await?;
                if status == InboxStatus::Parked {
                    tracing::error!(event = %entry.event_id, kind = %entry.kind, %error, "Stripe event parked after repeated failures");
                } else {
                    tracing::warn!(event = %entry.event_id, kind = %entry.kind, %error, "Stripe event not applied; will retry");
                }
                Ok(())
            }
        }
    }
}
