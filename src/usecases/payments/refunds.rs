//! Refunds, as two facts: the Payment aggregate records the request and reserves its amount
//! (racing requests conflict at the event store and the losers decide again on the winners'
//! reservations — in any number of processes), then the provider is asked with a key derived
//! from the refund's id, then its verdict settles the request. A request left pending by a
//! crash or an unreachable provider is completed later with the same key: one refund, never two.

use aggregates::payment::{PaymentCommand, RefundOutcome, RequestRefund, SettleRefund};
use chrono::Utc;
use projections::PaymentRow;

use super::PaymentService;
use crate::error::AppError;
use crate::provider::{NewRefund, ProviderError};
use crate::usecases::common::idempotency::{provider_key, DerivedId, Subject};
use crate::usecases::common::{command_metadata, CommandMetadata};

impl PaymentService {
    /// Refunds part or all of what remains refundable. With an Idempotency-Key, a retry makes
    /// no second refund.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn refund(
        &self,
        customer_id: &str,
        payment_id: &str,
        amount: Option<i64>,
        idempotency_key: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<PaymentRow, AppError> {
        let payment = self.owned(customer_id, payment_id).await?;
        let refund_id = match idempotency_key {
            Some(key) => DerivedId::RefundFromClientKey
                .from_client_key(customer_id, &format!("{payment_id}/{key}")),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let command = PaymentCommand::RequestRefund(RequestRefund {
            refund_id: refund_id.clone(),
            amount,
            at: Utc::now(),
        });
        let metadata = command_metadata(request_id);
        self.commands
            .execute(payment_id, command, metadata.clone())
            .await?;
        self.settle(&payment.payment_intent_id, payment_id, &refund_id, metadata)
            .await?;
        self.row(payment_id).await
    }

    /// Asks the provider for refund `refund_id` (if it still awaits a verdict) and records
    /// the verdict. A provider that cannot be reached leaves the request pending: the next
    /// attempt (this one retried, or the repair of pending requests) uses the same key.
    pub(crate) async fn settle(
        &self,
        payment_intent_id: &str,
        payment_id: &str,
        refund_id: &str,
        metadata: CommandMetadata,
    ) -> Result<(), AppError> {
        let Some(amount) = self
            .commands
            .load(payment_id)
            .await?
            .pending_refund(refund_id)
        else {
            // Settled already (by the provider's event, or by a concurrent attempt).
            return Ok(());
        };
        let request = NewRefund {
            refund_id: refund_id.to_owned(),
            payment_intent_id: payment_intent_id.to_owned(),
            amount,
        };
        let key = provider_key(Subject::Refund, refund_id, "create");
        let (outcome, refused) = match self.provider.create_refund(&request, &key).await {
            Ok(refund) => (
                RefundOutcome::Succeeded {
                    provider_refund_id: refund.id,
                    amount: refund.amount,
                },
                None,
            ),
            Err(ProviderError::UnexpectedState(reason)) => (
                RefundOutcome::Failed {
                    reason: reason.clone(),
                },
                Some(reason),
            ),
            Err(other) => return Err(other.into()),
        };
        let command = PaymentCommand::SettleRefund(SettleRefund {
            refund_id: refund_id.to_owned(),
            outcome,
            at: Utc::now(),
        });
        self.commands.execute(payment_id, command, metadata).await?;
        match refused {
            Some(reason) => Err(AppError::InvalidState(reason)),
            None => Ok(()),
        }
    }
}
