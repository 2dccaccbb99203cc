//! Decisions about a payment's creation and its confirmation outcomes.

use chrono::{DateTime, Utc};

use super::{
    CreatePayment, Created, Outcome, Payment, PaymentError, PaymentEvent, PaymentStatus,
    RecordOutcome,
};

impl Payment {
    pub(super) fn decide_create(
        &self,
        create: CreatePayment,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
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
            Some(Created { event: existing }) if same_creation(existing, &event) => Ok(vec![]),
            Some(_) => Err(PaymentError::AlreadyCreated),
        }
    }

    pub(super) fn decide_outcome(
        &self,
        record: RecordOutcome,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
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
}

/// The event recording an outcome.
pub(super) fn outcome_event(
    attempt: Option<u32>,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> PaymentEvent {
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
pub(super) fn status_of(outcome: &Outcome) -> PaymentStatus {
    match outcome {
        Outcome::Succeeded { .. } => PaymentStatus::Succeeded,
        Outcome::Failed { .. } => PaymentStatus::Failed,
        Outcome::RequiresAction { .. } => PaymentStatus::RequiresAction,
        Outcome::Processing => PaymentStatus::Processing,
        Outcome::Canceled => PaymentStatus::Canceled,
    }
}

/// Two creations are the same request when everything but the time matches.
fn same_creation(existing: &PaymentEvent, new: &PaymentEvent) -> bool {
    fn without_time(event: &PaymentEvent) -> Option<PaymentEvent> {
        let mut event = event.clone();
        match &mut event {
            PaymentEvent::PaymentCreated { created_at, .. } => {
                *created_at = DateTime::<Utc>::UNIX_EPOCH;
                Some(event)
            }
            _ => None,
        }
    }
    without_time(existing) == without_time(new)
}
