//! Confirming a payment, and asking the provider for news of one. The Payment aggregate names
//! the attempt: racing confirmations of one payment get the same attempt number and so the
//! same provider idempotency key — the customer is charged once, however many processes race.

use aggregates::payment::{PaymentCommand, RecordOutcome};
use chrono::Utc;
use projections::PaymentRow;

use super::PaymentService;
use crate::error::AppError;
use crate::provider::ProviderError;
use crate::usecases::common::command_metadata;
use crate::usecases::common::idempotency::{provider_key, Subject};

impl PaymentService {
    /// Confirms a payment with a payment method.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn confirm(
        &self,
        customer_id: &str,
        payment_intent_id: &str,
        payment_method: &str,
        request_id: Option<&str>,
    ) -> Result<PaymentRow, AppError> {
        let payment_method = self.payment_method(payment_method)?;
        let payment = crate::usecases::common::owned_by(
            self.readers
                .find::<PaymentRow>("payment_intent_id", payment_intent_id)
                .await?,
            customer_id,
        )?;
        let attempt = self
            .commands
            .load(&payment.payment_id)
            .await?
            .next_confirmation_attempt()?;
        let key = provider_key(
            Subject::Payment,
            &payment.payment_id,
            &format!("confirm-{attempt}"),
        );
        let intent = match self
            .provider
            .confirm_payment_intent(payment_intent_id, payment_method.as_str(), &key)
            .await
        {
            Ok(intent) => intent,
            Err(ProviderError::UnexpectedState(message)) => {
                // Another confirmation got there first: bring our view up to date, then say so.
                self.refresh(&payment, request_id).await;
                return Err(AppError::InvalidState(message));
            }
            Err(error) => return Err(error.into()),
        };
        if let Some(outcome) = intent.outcome() {
            let command = PaymentCommand::RecordOutcome(RecordOutcome {
                attempt: Some(attempt),
                outcome,
                at: Utc::now(),
            });
            self.commands
                .execute(&payment.payment_id, command, command_metadata(request_id))
                .await?;
        }
        self.row(&payment.payment_id).await
    }

    /// Asks the provider for the intent's state and records it; failures only log, since the
    /// webhook path will bring the same news.
    pub(super) async fn refresh(&self, payment: &PaymentRow, request_id: Option<&str>) {
        let outcome = match self
            .provider
            .retrieve_payment_intent(&payment.payment_intent_id)
            .await
        {
            Ok(intent) => intent.outcome(),
            Err(error) => {
                tracing::warn!(%error, "could not refresh a payment from the provider");
                return;
            }
        };
        let Some(outcome) = outcome else { return };
        let command = PaymentCommand::RecordOutcome(RecordOutcome {
            attempt: None,
            outcome,
            at: Utc::now(),
        });
        if let Err(error) = self
            .commands
            .execute(&payment.payment_id, command, command_metadata(request_id))
            .await
        {
            tracing::warn!(%error, "could not record a refreshed payment outcome");
        }
    }
}
