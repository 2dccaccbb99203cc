//! Invoices and credit notes at Stripe, through the same form requests as the rest of Billing
//! (`billing`): retrieve, create a draft with its lines, act on it (`finalize`, `pay`, `void`,
//! `send`), credit it. Voiding a draft is `void`'s.

use super::billing::{billing_id, missing_invoice, FormRequest};
use super::billing_decode;
use super::metadata;
use super::transport::{Failure, StripeProvider};
use crate::provider::{NewCreditNote, NewInvoice, ProviderError, ProviderInvoice};

impl StripeProvider {
    /// The invoice as Stripe has it now, decoded leniently like every answer.
    pub(super) async fn stripe_retrieve_invoice(
        &self,
        id: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let invoice = self
            .call(&FormRequest::get(format!("/invoices/{id}")), None)
            .await
            .map_err(missing_invoice)?;
        billing_decode::invoice(&invoice)
    }

    /// A draft invoice, then one invoice item per line on it (and one per line's tax, so
    /// Stripe's totals are billstream's to the cent whatever Stripe's tax rounding).
    pub(super) async fn stripe_create_invoice(
        &self,
        new: &NewInvoice,
        key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let method = serde_json::to_value(new.collection_method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "send_invoice".into());
        let mut request = FormRequest::post("/invoices")
            .param("customer", &new.stripe_customer_id)
            .param("currency", &new.currency)
            .param("collection_method", &method)
            .param("auto_advance", false)
            .param("pending_invoice_items_behavior", "exclude")
            .param(metadata::form_param(metadata::INVOICE_ID), &new.invoice_id);
        if method == "send_invoice" {
            request = request.param("days_until_due", new.due_days);
        }
        if let Some(memo) = &new.memo {
            request = request.param("description", memo);
        }
        let draft = self.call(&request, Some(key)).await?;
        let invoice_id = billing_id(&draft)?;
        for (index, line) in new.lines.iter().enumerate() {
            let amounts = line.amounts();
            let item = FormRequest::post("/invoiceitems")
                .param("customer", &new.stripe_customer_id)
                .param("invoice", &invoice_id)
                .param("currency", &new.currency)
                .param("amount", amounts.subtotal)
                .param(
                    "description",
                    format!("{} × {}", line.quantity, line.description),
                );
            self.call(&item, Some(&format!("{key}-line-{index}")))
                .await?;
            if amounts.tax > 0 {
                let rate = format!(
                    "{}.{:02} %",
                    line.tax_rate_bps / 100,
                    line.tax_rate_bps % 100
                );
                let tax = FormRequest::post("/invoiceitems")
                    .param("customer", &new.stripe_customer_id)
                    .param("invoice", &invoice_id)
                    .param("currency", &new.currency)
                    .param("amount", amounts.tax)
                    .param("description", format!("VAT {rate} on {}", line.description));
                self.call(&tax, Some(&format!("{key}-tax-{index}"))).await?;
            }
        }
        self.stripe_retrieve_invoice(&invoice_id).await
    }

    /// Creates a credit note (`POST /v1/credit_notes`) of one custom line of `amount`, tax
    /// included (billstream's invoices carry their tax as lines of their own); on a paid
    /// invoice the amount is refunded (`refund_amount`). Only the answer's success is read.
    pub(super) async fn stripe_credit_invoice(
        &self,
        invoice_id: &str,
        credit: &NewCreditNote,
        key: &str,
    ) -> Result<(), ProviderError> {
        let mut request = FormRequest::post("/credit_notes")
            .param("invoice", invoice_id)
            .param("lines[0][type]", "custom_line_item")
            .param("lines[0][description]", format!("Avoir {}", credit.number))
            .param("lines[0][quantity]", 1)
            .param("lines[0][unit_amount]", credit.amount)
            .param("memo", format!("Avoir {}", credit.number))
            .param(
                metadata::form_param(metadata::CREDIT_NOTE_ID),
                &credit.credit_note_id,
            );
        if credit.refund {
            request = request.param("refund_amount", credit.amount);
        }
        self.call(&request, Some(key)).await.map(|_| ())
    }

    /// POSTs an invoice action (`finalize`, `pay`, `void`, `send`). A declined payment is
    /// an outcome: the invoice comes back open with its failed attempt.
    pub(super) async fn stripe_invoice_action(
        &self,
        id: &str,
        action: &str,
        payment_method: Option<&str>,
        key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let mut request = FormRequest::post(format!("/invoices/{id}/{action}"));
        if let Some(method) = payment_method {
            request = request.param("payment_method", method);
        }
        match self.send(&request, Some(key)).await {
            Ok(invoice) => billing_decode::invoice(&invoice),
            Err(Failure::CardError { .. }) => self.stripe_retrieve_invoice(id).await,
            Err(failure) => Err(missing_invoice(failure.into_error())),
        }
    }
}
