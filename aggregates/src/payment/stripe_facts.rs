//! Decisions on what a Stripe event says about a payment: each event acts once, an older view
//! never overwrites a newer one, and a charge's refunds are counted exactly once — settling
//! billstream's own pending requests when the provider names them.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::decide::{outcome_event, status_of};
use super::{ChargeFact, Payment, PaymentError, PaymentEvent, PaymentStripeFact};

impl Payment {
    /// A Stripe event acts once; an older view never overwrites a newer one, and a final
    /// payment leaves its state only by a real transition (a refund). Stale events are recorded
    /// as such, so the log says why a payment is in its state.
    pub(super) fn decide_stripe_event(
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
                if older && target.rank() <= self.status.rank() {
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
        if charge.amount_captured > 0 && !self.status.is_captured() {
            push(
                self,
                PaymentEvent::PaymentSucceeded {
                    attempt: None,
                    amount_received: charge.amount_captured,
                    at,
                },
            );
        }
        for refund in &charge.refunds {
            // billstream's own request, made at the provider but not yet settled here (its
            // answer was lost, or is still on its way): this event settles it.
            if let Some(request_id) = refund
                .request_id
                .as_ref()
                .filter(|id| self.pending_refunds.contains_key(*id))
            {
                push(
                    self,
                    PaymentEvent::RefundSucceeded {
                        refund_id: request_id.clone(),
                        provider_refund_id: refund.refund_id.clone(),
                        amount: refund.amount,
                        at,
                    },
                );
            }
            if let Some(Some(event)) = self.refund_event(&refund.refund_id, refund.amount, at) {
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
}
