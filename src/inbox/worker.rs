//! Drains the inbox: decodes each due event once, applies it, records what became of it,
//! retries failures.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::apply::EventApplier;
use super::store::{Inbox, InboxEntry, InboxError, InboxStatus};
use crate::provider::{self, IncomingEvent};

/// How long the worker sleeps when nothing wakes it (retries come due on their own).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Events read per pass.
const BATCH: i64 = 500;
/// Objects whose events are applied at the same time (their commits share transactions).
const LANES: usize = 32;

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

    /// Applies every due event; returns how many were processed. The events of one object
    /// (a PaymentIntent with its charges and refunds, a subscription, an invoice) are applied
    /// one after the other in Stripe's order; different objects go concurrently, so their
    /// commits are grouped into shared transactions.
    pub async fn drain(&self) -> Result<usize, InboxError> {
        let mut processed = 0;
        loop {
            let due = self.inbox.due(BATCH).await?;
            if due.is_empty() {
                return Ok(processed);
            }
            processed += due.len();
            let outcomes: Vec<Result<(), InboxError>> = futures::stream::iter(lanes(due))
                .map(|lane| async move {
                    for (entry, event) in &lane {
                        self.process(entry, event.as_ref()).await?;
                    }
                    Ok(())
                })
                .buffer_unordered(LANES)
                .collect()
                .await;
            outcomes.into_iter().collect::<Result<(), _>>()?;
        }
    }

    async fn process(
        &self,
        entry: &InboxEntry,
        event: Option<&IncomingEvent>,
    ) -> Result<(), InboxError> {
        let Some(event) = event else {
            self.inbox
                .fail(entry, "the stored body is not a Stripe event")
                .await?;
            return Ok(());
        };
        match self.applier.apply(event).await {
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

/// A due event with its decoded body (`None` when the stored body is not an event).
type Due = (InboxEntry, Option<IncomingEvent>);

/// Decodes every due event, once, and splits them into lanes, one per object they concern,
/// keeping their order. A charge or refund belongs to its PaymentIntent's lane: all of them
/// change the same payment.
fn lanes(due: Vec<InboxEntry>) -> Vec<Vec<Due>> {
    let mut lanes: Vec<Vec<Due>> = Vec::new();
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    for entry in due {
        let event = provider::decode_event(entry.payload.as_bytes());
        let key = lane_key(&entry, event.as_ref());
        let index = *lane_of.entry(key).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[index].push((entry, event));
    }
    lanes
}

fn lane_key(entry: &InboxEntry, event: Option<&IncomingEvent>) -> String {
    event
        .and_then(|event| event.envelope.ordering_key())
        .or(entry.object_id.as_deref())
        .unwrap_or(&entry.event_id)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, object_id: &str, payload: &str) -> InboxEntry {
        InboxEntry {
            seq,
            event_id: format!("evt_{seq}"),
            kind: "x".into(),
            object_id: Some(object_id.into()),
            created: 0,
            status: "pending".into(),
            attempts: 0,
            last_error: None,
            received_at: String::new(),
            payload: payload.into(),
        }
    }

    fn event(object: &str) -> String {
        format!(r#"{{"id":"evt","type":"x","created":0,"data":{{"object":{object}}}}}"#)
    }

    #[test]
    fn a_charge_shares_the_lane_of_its_payment_intent_and_order_is_kept() {
        let due = vec![
            entry(1, "pi_1", &event(r#"{"id":"pi_1"}"#)),
            entry(2, "pi_2", &event(r#"{"id":"pi_2"}"#)),
            entry(
                3,
                "ch_1",
                &event(r#"{"id":"ch_1","payment_intent":"pi_1"}"#),
            ),
            entry(4, "pi_1", &event(r#"{"id":"pi_1"}"#)),
        ];
        let seqs: Vec<Vec<i64>> = lanes(due)
            .iter()
            .map(|lane| lane.iter().map(|(entry, _)| entry.seq).collect())
            .collect();
        assert_eq!(seqs, vec![vec![1, 3, 4], vec![2]]);
    }
}
