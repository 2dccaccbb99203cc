//! Custom invoices: created with billstream's validated lines at the provider, then finalized,
//! paid, voided or sent there; every answer (and every `invoice.*` webhook) brings the Invoice
//! aggregate forward to the provider's state. Invoices the provider makes on its own
//! (subscription periods) are adopted from their webhooks. Whether an action is allowed is the
//! Invoice aggregate's decision. A finalized invoice's legal document is issued once and
//! stored (`issue`), from what the event log held at finalization (`legal_source`). A
//! finalized invoice is corrected by credit notes (`credit_notes`), each issued once in the
//! same way (`credit_issue`, `credit_source`).

mod actions;
mod create;
mod credit_issue;
mod credit_notes;
mod credit_source;
mod issue;
mod legal_source;
pub mod numbering;

pub use create::{NewInvoiceRequest, RequestedLine};
pub use credit_notes::{CreditNoteRequest, RequestedCredit};
pub use issue::IssuedDocument;

use std::sync::Arc;

use aggregates::invoice::{Invoice, InvoiceStatus};
use aggregates::values::CardNumbers;
use aggregates::ValidationError;
use invoice_documents::{Language, Seller};
use projections::{InvoiceRow, Invoices, WriteGate};
use sqlx::SqlitePool;

use super::common::{owned_by, Commands, Page, PageRequest};
use crate::error::AppError;
use crate::provider::PaymentProvider;

/// Longest payment term, in days.
pub const MAX_DUE_DAYS: i64 = 365;

/// What issuing invoice documents needs.
pub struct DocumentSettings {
    pub seller: Arc<Seller>,
    pub language: Language,
    pub gate: WriteGate,
}

/// The invoice use cases.
pub struct InvoiceService {
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    commands: Commands<Invoice>,
    card_numbers: CardNumbers,
    /// Who issues the invoices, printed on each document when it is issued.
    seller: Arc<Seller>,
    /// The documents' language for a customer who chose none.
    language: Language,
    /// This process's turn at the write lock, for storing issued documents.
    gate: WriteGate,
}

impl InvoiceService {
    pub fn new(
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        commands: Commands<Invoice>,
        card_numbers: CardNumbers,
        documents: DocumentSettings,
    ) -> Self {
        Self {
            pool,
            provider,
            commands,
            card_numbers,
            seller: documents.seller,
            language: documents.language,
            gate: documents.gate,
        }
    }

    /// The invoice as the read model has it after a catch-up (read-your-writes).
    async fn read(&self, invoice_id: &str) -> Result<InvoiceRow, AppError> {
        self.commands.catch_up().await;
        Invoices::find(&self.pool, invoice_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The customer's invoice (404 for anyone else's).
    pub async fn owned(&self, customer_id: &str, invoice_id: &str) -> Result<InvoiceRow, AppError> {
        owned_by(Invoices::find(&self.pool, invoice_id).await?, customer_id)
    }

    /// Any customer's invoice, for a caller that proved its right to it otherwise (the
    /// portal's signed invoice link); the invoice names its customer.
    pub async fn by_signed_link(&self, invoice_id: &str) -> Result<InvoiceRow, AppError> {
        Invoices::find(&self.pool, invoice_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A page of the customer's invoices, newest first.
    pub async fn list(
        &self,
        customer_id: &str,
        status: Option<&str>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<InvoiceRow>, AppError> {
        let page = PageRequest::parse(limit, cursor)?;
        if status.is_some_and(|status| InvoiceStatus::parse(status).is_none()) {
            return Err(ValidationError::new(
                "status",
                "must be draft, open, paid, void or uncollectible",
            )
            .into());
        }
        let rows = Invoices::list(
            &self.pool,
            customer_id,
            status,
            page.before_position,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.page(rows, |row| row.created_position))
    }
}
