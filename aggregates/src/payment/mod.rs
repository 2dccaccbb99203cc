//! A one-off card payment: one aggregate per PaymentIntent. It decides every rule about the
//! payment — which confirmation attempt comes next, what may still be refunded (requests
//! reserve their amount, so racing refunds in any number of processes never exceed the
//! capture), and how provider news moves it on.

mod commands;
mod decide;
mod error;
mod events;
mod refunds;
mod status;
mod stripe_facts;

#[cfg(test)]
mod refund_tests;
#[cfg(test)]
mod stripe_fact_tests;
#[cfg(test)]
mod tests;

pub use commands::{
    ChargeFact, ChargeRefund, CreatePayment, Outcome, PaymentCommand, PaymentStripeFact,
    RecordOutcome, RefundOutcome, RequestRefund, SettleRefund,
};
pub use error::PaymentError;
pub use events::PaymentEvent;
pub use status::PaymentStatus;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// A payment's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    created: Option<Created>,
    status: PaymentStatus,
    confirm_attempts: u32,
    amount_received: i64,
    amount_refunded: i64,
    /// Provider refund ids already counted.
    refund_ids: BTreeSet<String>,
    /// Refunded money not yet matched to a refund id (counted in `amount_refunded`).
    unattributed_refunded: i64,
    /// Refund requests awaiting the provider's verdict, and the amount each reserves.
    pending_refunds: BTreeMap<String, i64>,
    /// Refund requests the provider decided (made or refused).
    settled_refunds: BTreeSet<String>,
    /// Stripe events already applied (or recorded as stale): each acts once.
    stripe_events: BTreeSet<String>,
    /// When the last outcome happened (our clock for API calls, Stripe's for its events).
    last_outcome_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Created {
    event: PaymentEvent,
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.decide(command)?;
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.note_outcome_at(&event);
        match &event {
            PaymentEvent::PaymentCreated { .. } => {
                self.created = Some(Created {
                    event: event.clone(),
                });
                self.status = PaymentStatus::RequiresPaymentMethod;
            }
            PaymentEvent::PaymentSucceeded {
                attempt,
                amount_received,
                ..
            } => {
                self.note_attempt(*attempt);
                self.amount_received = *amount_received;
                self.status = PaymentStatus::Succeeded;
            }
            PaymentEvent::PaymentFailed { attempt, .. } => {
                self.note_attempt(*attempt);
                self.status = PaymentStatus::Failed;
            }
            PaymentEvent::PaymentRequiresAction { attempt, .. } => {
                self.note_attempt(*attempt);
                self.status = PaymentStatus::RequiresAction;
            }
            PaymentEvent::PaymentProcessing { attempt, .. } => {
                self.note_attempt(*attempt);
                self.status = PaymentStatus::Processing;
            }
            PaymentEvent::PaymentCanceled { attempt, .. } => {
                self.note_attempt(*attempt);
                self.status = PaymentStatus::Canceled;
            }
            PaymentEvent::PaymentRefunded {
                refund_id, amount, ..
            } => {
                self.refund_ids.insert(refund_id.clone());
                self.count_refund(*amount);
            }
            PaymentEvent::RefundReconciled { amount, .. } => {
                self.unattributed_refunded += amount;
                self.count_refund(*amount);
            }
            PaymentEvent::RefundAttributed { refund_id, amount } => {
                self.refund_ids.insert(refund_id.clone());
                self.unattributed_refunded -= amount;
            }
            PaymentEvent::RefundRequested {
                refund_id, amount, ..
            } => {
                self.pending_refunds.insert(refund_id.clone(), *amount);
            }
            PaymentEvent::RefundSucceeded { refund_id, .. }
            | PaymentEvent::RefundFailed { refund_id, .. } => {
                self.pending_refunds.remove(refund_id);
                self.settled_refunds.insert(refund_id.clone());
            }
            PaymentEvent::StripeEventApplied {
                stripe_event_id, ..
            }
            | PaymentEvent::StaleStripeEventIgnored {
                stripe_event_id, ..
            } => {
                self.stripe_events.insert(stripe_event_id.clone());
            }
        }
    }
}

impl Payment {
    /// Where the payment stands.
    pub fn status(&self) -> PaymentStatus {
        self.status
    }

    /// True once the payment was created.
    pub fn exists(&self) -> bool {
        self.created.is_some()
    }

    /// The number of the next confirmation attempt. Two racing confirmations get the same
    /// number (and so the same provider idempotency key: one charge); a payment whose money
    /// already moved cannot be confirmed again.
    pub fn next_confirmation_attempt(&self) -> Result<u32, PaymentError> {
        if !self.exists() {
            return Err(PaymentError::NotCreated);
        }
        if self.status.is_final_for_confirmation() {
            return Err(PaymentError::AlreadyFinal(self.status.as_str()));
        }
        Ok(self.confirm_attempts + 1)
    }

    /// What a new refund may still take: captured, less refunded, less what pending requests
    /// have reserved.
    pub fn refundable_amount(&self) -> i64 {
        self.amount_received - self.amount_refunded - self.pending_refunds.values().sum::<i64>()
    }

    /// The amount refund request `refund_id` reserves, while it awaits the provider.
    pub fn pending_refund(&self, refund_id: &str) -> Option<i64> {
        self.pending_refunds.get(refund_id).copied()
    }

    /// Every refund request awaiting the provider's verdict, with its amount.
    pub fn pending_refunds(&self) -> impl Iterator<Item = (&str, i64)> {
        self.pending_refunds
            .iter()
            .map(|(id, amount)| (id.as_str(), *amount))
    }

    fn note_attempt(&mut self, attempt: Option<u32>) {
        if let Some(attempt) = attempt {
            self.confirm_attempts = self.confirm_attempts.max(attempt);
        }
    }

    fn count_refund(&mut self, amount: i64) {
        self.amount_refunded += amount;
        self.status = if self.amount_refunded >= self.amount_received {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
    }

    fn note_outcome_at(&mut self, event: &PaymentEvent) {
        let at = match event {
            PaymentEvent::PaymentSucceeded { at, .. }
            | PaymentEvent::PaymentFailed { at, .. }
            | PaymentEvent::PaymentRequiresAction { at, .. }
            | PaymentEvent::PaymentProcessing { at, .. }
            | PaymentEvent::PaymentCanceled { at, .. } => *at,
            _ => return,
        };
        self.last_outcome_at = Some(self.last_outcome_at.map_or(at, |last| last.max(at)));
    }

    /// The pure decision: which events a command produces from the current state.
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::Create(create) => self.decide_create(create),
            PaymentCommand::RecordOutcome(record) => self.decide_outcome(record),
            PaymentCommand::RequestRefund(request) => self.decide_refund_request(request),
            PaymentCommand::SettleRefund(settle) => self.decide_refund_settlement(settle),
            PaymentCommand::ApplyStripeEvent(fact) => self.decide_stripe_event(fact),
            PaymentCommand::Adopt { create, fact } => {
                let mut events = self.decide_create(create)?;
                let mut state = self.clone();
                for event in &events {
                    state.apply(event.clone());
                }
                events.extend(state.decide_stripe_event(fact)?);
                Ok(events)
            }
        }
    }
}
