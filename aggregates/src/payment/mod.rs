//! A one-off card payment: one aggregate per PaymentIntent.

mod commands;
mod error;
mod events;

#[cfg(test)]
mod tests;

pub use commands::{CreatePayment, Outcome, PaymentCommand, RecordOutcome, RecordRefund};
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
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
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
                self.amount_refunded += amount;
                self.status = if self.amount_refunded >= self.amount_received {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
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

    /// The pure decision: which events a command produces from the current state.
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::Create(create) => self.decide_create(create),
            PaymentCommand::RecordOutcome(record) => self.decide_outcome(record),
            PaymentCommand::RecordRefund(refund) => self.decide_refund(refund),
        }
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
            if self.status.is_final_for_confirmation() {
                return Err(PaymentError::AlreadyFinal(self.status.as_str()));
            }
        } else if self.status.is_final_for_confirmation() {
            // A status check cannot move a final payment back.
            return Ok(vec![]);
        }
        let (attempt, at) = (record.attempt, record.at);
        let event = match record.outcome {
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
        };
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
        if self.refund_ids.contains(&refund.refund_id) {
            return Ok(vec![]);
        }
        if !matches!(
            self.status,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
        ) {
            return Err(PaymentError::NotRefundable(self.status.as_str()));
        }
        let refundable = self.amount_received - self.amount_refunded;
        if refund.amount.minor_units() > refundable {
            return Err(PaymentError::RefundExceedsCaptured { refundable });
        }
        Ok(vec![PaymentEvent::PaymentRefunded {
            refund_id: refund.refund_id,
            amount: refund.amount.minor_units(),
            at: refund.at,
        }])
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
