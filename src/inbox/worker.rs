//! Drains the inbox: decodes each due event once, applies it, records what became of it,
//! retries failures.
//!
//! Events are applied in rounds: the first due event of every object at once, then the read
//! models catch up once, then every object's second event, and so on. A command's own catch-up
//! (read-your-writes, which a webhook does not need) would be one more write transaction per
//! event, each waiting its turn behind the others; a round needs one. An object's next event
//! still finds what its previous one recorded (a refund finds its payment), and an event is
//! marked applied after the catch-up that brings it into the read models.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use projections::Projector;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::apply::EventApplier;
use super::store::{Inbox, InboxEntry, InboxError, InboxStatus};
use crate::provider::{self, IncomingEvent};

/// How long the worker sleeps when nothing wakes it (retries come due on their own).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Events read per pass.
const BATCH: i64 = 500;
/// Objects whose events are applied at the same time (their commits share transactions). More
/// commands in flight make each group commit hold more of them: alone, 20,000 queued events
/// drained in 13.3 s with 32 lanes, 12.6 s with 128, 9.6 s with 512. Beside a burst of
/// deliveries, though, the worker's commands queue in the same writer as the acknowledgements:
/// with 500 lanes the deliveries' p99 went from 35 ms to about 145 ms. 128 is between the two
/// (BENCHMARKS.md, stop 31).
const LANES: usize = 128;

/// The inbox worker.
pub struct InboxWorker {
    inbox: Inbox,
    /// Applies events through commands that do not catch the read models up themselves.
    applier: Arc<EventApplier>,
    /// Caught up after each round.
    projector: Arc<Projector>,
    wake: Arc<Notify>,
}

impl InboxWorker {
    pub fn new(
        inbox: Inbox,
        applier: Arc<EventApplier>,
        projector: Arc<Projector>,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            inbox,
            applier,
            projector,
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
    /// one after the other in Stripe's order, a round each; different objects go concurrently,
    /// so their commits are grouped into shared transactions.
    pub async fn drain(&self) -> Result<usize, InboxError> {
        let mut processed = 0;
        loop {
            let due = self.inbox.due(BATCH).await?;
            if due.is_empty() {
                return Ok(processed);
            }
            processed += due.len();
            let mut lanes: Vec<_> = lanes(due).into_iter().map(Vec::into_iter).collect();
            loop {
                let round: Vec<Due> = lanes.iter_mut().filter_map(Iterator::next).collect();
                if round.is_empty() {
                    break;
                }
                self.apply_round(round).await?;
            }
        }
    }

    /// Applies one event of each lane, catches the read models up, then records each outcome.
    async fn apply_round(&self, events: Vec<Due>) -> Result<(), InboxError> {
        let outcomes: Vec<(InboxEntry, Result<InboxStatus, String>)> =
            futures::stream::iter(events.into_iter().map(|due| self.apply_one(due)))
                .buffer_unordered(LANES)
                .collect()
                .await;
        // A failure loses nothing: the events are committed, and the next catch-up (this
        // worker's next round, a command's, the projector's loop) applies them.
        if let Err(error) = self.projector.catch_up().await {
            tracing::warn!(%error, "projector catch-up after a round of Stripe events failed; will retry");
        }
        let mut finished = Vec::new();
        let mut failed = Vec::new();
        for (entry, outcome) in outcomes {
            match outcome {
                Ok(status) => finished.push((entry.seq, status)),
                Err(error) => failed.push((entry, error)),
            }
        }
        self.inbox.finish_all(&finished).await?;
        let recorded: Vec<Result<(), InboxError>> = futures::stream::iter(
            failed
                .into_iter()
                .map(|(entry, error)| self.record_failure(entry, error)),
        )
        .buffer_unordered(LANES)
        .collect()
        .await;
        recorded.into_iter().collect()
    }

    async fn apply_one(&self, (entry, event): Due) -> (InboxEntry, Result<InboxStatus, String>) {
        let outcome = match &event {
            Some(event) => self
                .applier
                .apply(event)
                .await
                .map_err(|error| error.to_string()),
            None => Err("the stored body is not a Stripe event".to_owned()),
        };
        (entry, outcome)
    }

    async fn record_failure(&self, entry: InboxEntry, error: String) -> Result<(), InboxError> {
        let status = self.inbox.fail(&entry, &error).await?;
        if status == InboxStatus::Parked {
            tracing::error!(event = %entry.event_id, kind = %entry.kind, %error, "Stripe event parked after repeated failures");
        } else {
            tracing::warn!(event = %entry.event_id, kind = %entry.kind, %error, "Stripe event not applied; will retry");
        }
        Ok(())
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
    match event {
        Some(event) => event.envelope.lane(),
        None => entry.object_id.as_deref().unwrap_or(&entry.event_id),
    }
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
