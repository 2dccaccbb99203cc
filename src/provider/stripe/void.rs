//! Voiding an invoice at Stripe. billstream voids only drafts (a finalized invoice is
//! corrected by a credit note), and Stripe voids only finalized invoices: it deletes a draft
//! instead (`DELETE /v1/invoices/{id}`). So a draft is deleted and reported as void, with the
//! lines and totals it held; anything else is sent to Stripe's `void` action, which answers for
//! itself.

use stripe_client_core::StripeMethod;

use super::billing::{missing_invoice, FormRequest};
use super::transport::StripeProvider;
use crate::provider::{ProviderError, ProviderInvoice};

impl StripeProvider {
    pub(super) async fn stripe_void_invoice(
        &self,
        id: &str,
        key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let current = self.stripe_retrieve_invoice(id).await?;
        if current.status != "draft" {
            return self.stripe_invoice_action(id, "void", None, key).await;
        }
        // Stripe takes no idempotency key on a DELETE; deleting twice finds nothing the second
        // time, which the retrieve above already reports as a missing invoice.
        self.call(
            &FormRequest::new(StripeMethod::Delete, format!("/invoices/{id}")),
            None,
        )
        .await
        .map_err(missing_invoice)?;
        Ok(ProviderInvoice {
            status: "void".into(),
            ..current
        })
    }
}
