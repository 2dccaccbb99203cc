//! A one-off card payment: one aggregate per PaymentIntent.

mod commands;
mod error;
mod events;

#[cfg(test)]
mod tests;

pub use commands::{
    ChargeFact, CreatePayment, Outcome, PaymentCommand, PaymentStripeFact, RecordOutcome,
    RecordRefund,
};
pub use error::PaymentError;
pub use events::PaymentEvent;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// Where a payment stands. `Failed` may be confirmed again with another payment method, as
/// Stripe allows; `Succeeded`, `PartiallyRefunded`, `Refunded` and `Canceled` are final for
/// confirmation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    #[default]
    RequiresPaymentMethod,
    RequiresAction,
    Processing,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    /// The status as the API and the read model write it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresAction => "requires_action",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::RequiresPaymentMethod,
            Self::RequiresAction,
            Self::Processing,
            Self::Succeeded,
            Self::Failed,
            Self::Canceled,
            Self::PartiallyRefunded,
            Self::Refunded,
        ]
        .into_iter()
        .find(|status| status.as_str() == raw)
    }

    /// True once the money moved (or the intent died): no confirmation can change it.
    pub fn is_final_for_confirmation(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::PartiallyRefunded | Self::Refunded | Self::Canceled
        )
    }
}

/// A payment's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    created: Option<Created>,
    status: PaymentStatus,
    confirm_attempts: u32,
    amount_received: i64,
    amount_refunded: i64,
    refund_ids: BTreeSet<String>,
    /// Refunded money not yet matched to a refund id (counted in `amount_refunded`).
    unattributed_refunded: i64,
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

    /// The event recording refund `refund_id`: nothing if known, an attribution if its money
    /// was already reconciled, a refund if it fits what remains, `None` if it does not.
    fn refund_event(
        &self,
        refund_id: &str,
        amount: i64,
        at: DateTime<Utc>,
    ) -> Option<Option<PaymentEvent>> {
        if self.refund_ids.contains(refund_id) {
            return Some(None);
        }
        if amount <= self.unattributed_refunded {
            return Some(Some(PaymentEvent::RefundAttributed {
                refund_id: refund_id.to_owned(),
                amount,
            }));
        }
        let refundable = self.amount_received - self.amount_refunded;
        (1..=refundable).contains(&amount).then(|| {
            Some(PaymentEvent::PaymentRefunded {
                refund_id: refund_id.to_owned(),
                amount,
                at,
            })
        })
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
            PaymentCommand::RecordRefund(refund) => self.decide_refund(refund),
            PaymentCommand::ApplyStripeEvent(fact) => self.decide_stripe_event(fact),
        }
    }

    /// A Stripe event acts once; an older view never overwrites a newer one, and a final
    /// payment leaves its state only by a real transition (a refund). Stale events are recorded
    /// as such, so the log says why a payment is in its state.
    fn decide_stripe_event(
        &self,
        fact: PaymentStripeFact,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        if self.created.is_none() {
            return Err(PaymentError::NotCreated);
        }
        if self.stripe_events.contains(&fact.stripe_event_id) {
            return Ok(vec![]);
        }
        let stale = |reason: String| {
            Ok(vec![PaymentEvent::StaleStripeEventIgnored {
                stripe_event_id: fact.stripe_event_id.clone(),
                event_type: fact.event_type.clone(),
                created: fact.created,
                reason,
            }])
        };
        let mut effects = Vec::new();
        let mut state = self.clone();
        if let Some(outcome) = fact.outcome.clone() {
            let target = status_of(&outcome);
            if target != self.status {
                if self.status.is_final_for_confirmation() {
                    return stale(format!("the payment is already {}", self.status.as_str()));
                }
                let older = self.last_outcome_at.is_some_and(|last| fact.created < last);
                if older && rank(target) <= rank(self.status) {
                    return stale(format!(
                        "it says {} but a newer event already made the payment {}",
                        target.as_str(),
                        self.status.as_str()
                    ));
                }
                let event = outcome_event(None, outcome, fact.created);
                state.apply(event.clone());
                effects.push(event);
            }
        }
        if let Some(charge) = &fact.charge {
            effects.extend(state.charge_effects(charge, fact.created));
        }
        if effects.is_empty() {
            return Ok(vec![]);
        }
        let mut events = vec![PaymentEvent::StripeEventApplied {
            stripe_event_id: fact.stripe_event_id,
            event_type: fact.event_type,
            created: fact.created,
        }];
        events.extend(effects);
        Ok(events)
    }

    /// What a charge event adds: its capture (a refund proves the charge succeeded, even when
    /// the intent's own success has not arrived yet) and refunds not yet recorded.
    fn charge_effects(&mut self, charge: &ChargeFact, at: DateTime<Utc>) -> Vec<PaymentEvent> {
        let mut effects = Vec::new();
        let mut push = |state: &mut Self, event: PaymentEvent| {
            state.apply(event.clone());
            effects.push(event);
        };
        if charge.amount_captured > 0
            && !matches!(
                self.status,
                PaymentStatus::Succeeded
                    | PaymentStatus::PartiallyRefunded
                    | PaymentStatus::Refunded
            )
        {
            push(
                self,
                PaymentEvent::PaymentSucceeded {
                    attempt: None,
                    amount_received: charge.amount_captured,
                    at,
                },
            );
        }
        for (refund_id, amount) in &charge.refunds {
            if let Some(Some(event)) = self.refund_event(refund_id, *amount, at) {
                push(self, event);
            }
        }
        // Without a refund list (recent API versions), reconcile by the cumulative amount; a
        // refund id recorded later claims this money instead of counting it again.
        let missing = charge.amount_refunded.min(self.amount_received) - self.amount_refunded;
        if missing > 0 {
            push(
                self,
                PaymentEvent::RefundReconciled {
                    charge_id: charge.charge_id.clone(),
                    amount: missing,
                    at,
                },
            );
        }
        effects
    }

    fn decide_create(&self, create: CreatePayment) -> Result<Vec<PaymentEvent>, PaymentError> {
        let event = PaymentEvent::PaymentCreated {
            customer_id: create.customer_id,
            payment_intent_id: create.payment_intent_id,
            client_secret: create.client_secret,
            amount: create.amount.minor_units(),
            currency: create.currency.code().to_owned(),
            description: create.description,
            metadata: create.metadata,
            created_at: create.created_at,
        };
        match &self.created {
            None => Ok(vec![event]),
            // A retried creation (same idempotency key, same request) records nothing.
            Some(created) if same_creation(&created.event, &event) => Ok(vec![]),
            Some(_) => Err(PaymentError::AlreadyCreated),
        }
    }

    fn decide_outcome(&self, record: RecordOutcome) -> Result<Vec<PaymentEvent>, PaymentError> {
        if self.created.is_none() {
            return Err(PaymentError::NotCreated);
        }
        if let Some(attempt) = record.attempt {
            // The same attempt recorded twice (a retry, a lost race) changes nothing.
            if attempt <= self.confirm_attempts {
                return Ok(vec![]);
            }
            // The same news may already have arrived through the provider's webhook.
            if self.status.is_final_for_confirmation() && status_of(&record.outcome) == self.status
            {
                return Ok(vec![]);
            }
            if self.status.is_final_for_confirmation() {
                return Err(PaymentError::AlreadyFinal(self.status.as_str()));
            }
        } else if self.status.is_final_for_confirmation() {
            // A status check cannot move a final payment back.
            return Ok(vec![]);
        }
        let attempt = record.attempt;
        let event = outcome_event(attempt, record.outcome, record.at);
        if attempt.is_none() && self.would_not_change(&event) {
            return Ok(vec![]);
        }
        Ok(vec![event])
    }

    /// A status check that reports the status we already have records nothing.
    fn would_not_change(&self, event: &PaymentEvent) -> bool {
        let status = match event {
            PaymentEvent::PaymentRequiresAction { .. } => PaymentStatus::RequiresAction,
            PaymentEvent::PaymentProcessing { .. } => PaymentStatus::Processing,
            PaymentEvent::PaymentFailed { .. } => PaymentStatus::Failed,
            _ => return false,
        };
        status == self.status
    }

    fn decide_refund(&self, refund: RecordRefund) -> Result<Vec<PaymentEvent>, PaymentError> {
        if self.created.is_none() {
            return Err(PaymentError::NotCreated);
        }
        let known = self.refund_ids.contains(&refund.refund_id);
        let reconciled = refund.amount.minor_units() <= self.unattributed_refunded;
        if !known
            && !reconciled
            && !matches!(
                self.status,
                PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
            )
        {
            return Err(PaymentError::NotRefundable(self.status.as_str()));
        }
        match self.refund_event(&refund.refund_id, refund.amount.minor_units(), refund.at) {
            Some(event) => Ok(event.into_iter().collect()),
            None => Err(PaymentError::RefundExceedsCaptured {
                refundable: self.amount_received - self.amount_refunded,
            }),
        }
    }
}

/// The event recording an outcome.
fn outcome_event(attempt: Option<u32>, outcome: Outcome, at: DateTime<Utc>) -> PaymentEvent {
    match outcome {
        Outcome::Succeeded { amount_received } => PaymentEvent::PaymentSucceeded {
            attempt,
            amount_received,
            at,
        },
        Outcome::Failed {
            code,
            decline_code,
            message,
        } => PaymentEvent::PaymentFailed {
            attempt,
            failure_code: code,
            decline_code,
            failure_message: message,
            at,
        },
        Outcome::RequiresAction { next_action } => PaymentEvent::PaymentRequiresAction {
            attempt,
            next_action,
            at,
        },
        Outcome::Processing => PaymentEvent::PaymentProcessing { attempt, at },
        Outcome::Canceled => PaymentEvent::PaymentCanceled { attempt, at },
    }
}

/// The status an outcome leads to.
fn status_of(outcome: &Outcome) -> PaymentStatus {
    match outcome {
        Outcome::Succeeded { .. } => PaymentStatus::Succeeded,
        Outcome::Failed { .. } => PaymentStatus::Failed,
        Outcome::RequiresAction { .. } => PaymentStatus::RequiresAction,
        Outcome::Processing => PaymentStatus::Processing,
        Outcome::Canceled => PaymentStatus::Canceled,
    }
}

/// How far along a payment is: an older event may not move it back to a lower rank.
fn rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::RequiresPaymentMethod => 0,
        PaymentStatus::Failed | PaymentStatus::RequiresAction => 1,
        PaymentStatus::Processing => 2,
        PaymentStatus::Succeeded | PaymentStatus::Canceled => 3,
        PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => 4,
    }
}

/// Two creations are the same request when everything but the time matches.
fn same_creation(existing: &PaymentEvent, new: &PaymentEvent) -> bool {
    fn without_time(event: &PaymentEvent) -> Option<PaymentEvent> {
        match event.clone() {
            PaymentEvent::PaymentCreated {
                customer_id,
                payment_intent_id,
                client_secret,
                amount,
                currency,
                description,
                metadata,
                ..
            } => Some(PaymentEvent::PaymentCreated {
                customer_id,
                payment_intent_id,
                client_secret,
                amount,
                currency,
                description,
                metadata,
                created_at: DateTime::<Utc>::UNIX_EPOCH,
            }),
            _ => None,
        }
    }
    without_time(existing) == without_time(new)
}
