//! Refund decisions. A refund is two facts: the request reserves its amount (two racing
//! requests conflict at the event store and the loser decides again on the winner's
//! reservation, in any process), then the provider's verdict settles it. Provider news of a
//! refund — from billstream's request or from elsewhere — is counted exactly once.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;

use super::{Payment, PaymentError, PaymentEvent, RefundOutcome, RequestRefund, SettleRefund};

impl Payment {
    pub(super) fn decide_refund_request(
        &self,
        request: RequestRefund,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        if !self.exists() {
            return Err(PaymentError::NotCreated);
        }
        // The same request again (a retry after a timeout) reserves nothing more.
        if self.pending_refunds.contains_key(&request.refund_id)
            || self.settled_refunds.contains(&request.refund_id)
        {
            return Ok(vec![]);
        }
        if !self.status.is_refundable() {
            return Err(PaymentError::NotRefundable(self.status.as_str()));
        }
        let refundable = self.refundable_amount();
        let amount = request.amount.unwrap_or(refundable);
        if !(1..=refundable).contains(&amount) {
            return Err(PaymentError::RefundExceedsCaptured { refundable });
        }
        Ok(vec![PaymentEvent::RefundRequested {
            refund_id: request.refund_id,
            amount,
            at: request.at,
        }])
    }

    pub(super) fn decide_refund_settlement(
        &self,
        settle: SettleRefund,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        if !self.exists() {
            return Err(PaymentError::NotCreated);
        }
        if self.settled_refunds.contains(&settle.refund_id) {
            return Ok(vec![]);
        }
        if !self.pending_refunds.contains_key(&settle.refund_id) {
            return Err(PaymentError::UnknownRefund);
        }
        match settle.outcome {
            RefundOutcome::Failed { reason } => Ok(vec![PaymentEvent::RefundFailed {
                refund_id: settle.refund_id,
                reason,
                at: settle.at,
            }]),
            RefundOutcome::Succeeded {
                provider_refund_id,
                amount,
            } => {
                let succeeded = PaymentEvent::RefundSucceeded {
                    refund_id: settle.refund_id,
                    provider_refund_id: provider_refund_id.clone(),
                    amount,
                    at: settle.at,
                };
                let mut state = self.clone();
                state.apply(succeeded.clone());
                let counted = state
                    .refund_event(&provider_refund_id, amount, settle.at)
                    .flatten();
                Ok(std::iter::once(succeeded).chain(counted).collect())
            }
        }
    }

    /// The event recording provider refund `refund_id`: nothing if known, an attribution if
    /// its money was already reconciled, a refund if it fits what remains captured, `None` if
    /// it does not.
    pub(super) fn refund_event(
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
        let captured_left = self.amount_received - self.amount_refunded;
        (1..=captured_left).contains(&amount).then(|| {
            Some(PaymentEvent::PaymentRefunded {
                refund_id: refund_id.to_owned(),
                amount,
                at,
            })
        })
    }
}
