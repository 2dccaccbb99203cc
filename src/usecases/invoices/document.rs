//! The invoice as a document made by billstream (the same in sandbox and Stripe mode).

use aggregates::invoice::{InvoiceLine, InvoiceStatus};
use aggregates::money::Currency;
use projections::CustomerProfiles;

use super::InvoiceService;
use crate::error::AppError;
use crate::pdf::{self, InvoiceDocument, Seller};

impl InvoiceService {
    /// The customer's invoice as a PDF.
    pub async fn pdf(
        &self,
        customer_id: &str,
        invoice_id: &str,
        seller: &Seller,
    ) -> Result<Vec<u8>, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        let customer = CustomerProfiles::find_by_id(&self.pool, customer_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let lines: Vec<InvoiceLine> =
            serde_json::from_str(&row.lines).map_err(AppError::internal)?;
        let currency = Currency::parse("currency", &row.currency)?;
        let document = InvoiceDocument {
            seller: seller.clone(),
            customer_name: customer.name,
            customer_email: customer.email,
            number: row.number.clone(),
            issued_on: row
                .finalized_at
                .as_deref()
                .unwrap_or(&row.created_at)
                .chars()
                .take(10)
                .collect(),
            due_on: row.due_date.clone(),
            currency,
            lines,
            subtotal: row.subtotal,
            tax: row.tax,
            total: row.total,
            paid: InvoiceStatus::parse(&row.status) == Some(InvoiceStatus::Paid),
            memo: row.memo.clone(),
        };
        Ok(pdf::render(&document))
    }
}
