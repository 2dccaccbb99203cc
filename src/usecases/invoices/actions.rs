//! What a customer asks of an invoice — finalize, void, send, pay — each allowed or refused by
//! the Invoice aggregate, then done at the provider, whose answer brings the aggregate forward.

use aggregates::invoice::{InvoiceAction, InvoiceCommand, InvoiceNumber};
use aggregates::values::PaymentMethodId;
use chrono::Utc;
use projections::{InvoiceRow, Invoices};

use super::numbering::apply_provider_state;
use super::InvoiceService;
use crate::error::AppError;
use crate::provider::ProviderInvoice;
use crate::usecases::common::idempotency::{one_off_provider_key, provider_key, Subject};
use crate::usecases::common::{command_metadata, CommandMetadata};
use crate::usecases::provider_state::invoice_state;

impl InvoiceService {
    /// Finalizes, voids or sends the customer's invoice at the provider, then records it.
    pub async fn act(
        &self,
        customer_id: &str,
        invoice_id: &str,
        action: InvoiceAction,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let stripe_id = self.allowed(customer_id, invoice_id, action).await?;
        let provider = match action {
            InvoiceAction::Finalize => {
                let key = provider_key(Subject::Invoice, invoice_id, "finalize");
                self.provider.finalize_invoice(&stripe_id, &key).await?
            }
            InvoiceAction::Void => {
                let key = provider_key(Subject::Invoice, invoice_id, "void");
                self.provider.void_invoice(&stripe_id, &key).await?
            }
            InvoiceAction::Send => {
                let key = one_off_provider_key(Subject::Invoice, invoice_id, "send");
                let sent = self.provider.send_invoice(&stripe_id, &key).await?;
                self.commands
                    .execute(
                        invoice_id,
                        InvoiceCommand::Send { at: Utc::now() },
                        command_metadata(request_id),
                    )
                    .await?;
                sent
            }
            InvoiceAction::Pay => return self.pay(customer_id, invoice_id, None, request_id).await,
            InvoiceAction::Credit => {
                return Err(AppError::InvalidState(
                    "a credit note is issued with POST /api/invoices/{id}/credit-notes".into(),
                ))
            }
        };
        self.apply(invoice_id, &provider, command_metadata(request_id))
            .await?;
        self.read(invoice_id).await
    }

    /// Collects the customer's invoice now, from `payment_method` or the customer's default.
    pub async fn pay(
        &self,
        customer_id: &str,
        invoice_id: &str,
        payment_method: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let payment_method = payment_method
            .map(|method| PaymentMethodId::parse(method, self.card_numbers))
            .transpose()?;
        let stripe_id = self
            .allowed(customer_id, invoice_id, InvoiceAction::Pay)
            .await?;
        let key = one_off_provider_key(Subject::Invoice, invoice_id, "pay");
        let provider = self
            .provider
            .pay_invoice(
                &stripe_id,
                payment_method.as_ref().map(PaymentMethodId::as_str),
                &key,
            )
            .await?;
        self.apply(invoice_id, &provider, command_metadata(request_id))
            .await?;
        self.read(invoice_id).await
    }

    /// Brings invoice `invoice_id` forward to what the provider reports (from an answer or a
    /// webhook). A finalization without a provider number takes billstream's next number.
    pub async fn apply(
        &self,
        invoice_id: &str,
        provider: &ProviderInvoice,
        metadata: CommandMetadata,
    ) -> Result<(), AppError> {
        let placeholder = InvoiceNumber::sequential(0, 0);
        let Some(state) = invoice_state(provider, placeholder, Utc::now()) else {
            return Ok(());
        };
        apply_provider_state(
            self.commands.cqrs(),
            &self.pool,
            invoice_id,
            state,
            metadata,
        )
        .await?;
        self.commands.catch_up().await;
        self.issue_if_finalized(invoice_id).await;
        Ok(())
    }

    /// Issues the document of an invoice this report finalized, right away. A failure is
    /// logged only: the report is recorded, and the issuing loop or the first download tries
    /// again.
    async fn issue_if_finalized(&self, invoice_id: &str) {
        let finalized = matches!(
            Invoices::find(&self.pool, invoice_id).await,
            Ok(Some(row)) if row.number.is_some() && row.document_sha256.is_none()
        );
        if finalized {
            if let Err(error) = self.issue(invoice_id).await {
                tracing::warn!(%invoice_id, %error, "the invoice's document could not be issued yet");
            }
        }
    }

    /// Like [`apply`](Self::apply); the name the webhook applier knows.
    pub async fn apply_with_metadata(
        &self,
        invoice_id: &str,
        provider: &ProviderInvoice,
        metadata: CommandMetadata,
    ) -> Result<(), AppError> {
        self.apply(invoice_id, provider, metadata).await
    }

    /// The provider's id of the customer's invoice, once the aggregate allows `action` on it.
    async fn allowed(
        &self,
        customer_id: &str,
        invoice_id: &str,
        action: InvoiceAction,
    ) -> Result<String, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        self.commands.load(invoice_id).await?.check(action)?;
        row.stripe_invoice_id.ok_or_else(|| {
            AppError::InvalidState("this invoice is not known to the payment provider".into())
        })
    }
}
