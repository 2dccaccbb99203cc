//! What can be asked of an invoice. Numbers, dates and payment references arrive in commands.

use chrono::{DateTime, NaiveDate, Utc};

use super::lines::InvoiceLine;
use crate::money::Currency;

/// How the invoice is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionMethod {
    /// The customer's default payment method is charged.
    ChargeAutomatically,
    /// The invoice is sent; the customer pays it.
    SendInvoice,
}

/// Every command the [`Invoice`](super::Invoice) aggregate accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum InvoiceCommand {
    Create(CreateInvoice),
    Finalize(FinalizeInvoice),
    RecordPayment(RecordInvoicePayment),
    Void {
        at: DateTime<Utc>,
    },
    MarkUncollectible {
        at: DateTime<Utc>,
    },
    Send {
        at: DateTime<Utc>,
    },
    /// Issues a credit note on a finalized invoice.
    IssueCreditNote(super::credit::IssueCreditNote),
    /// Records the legal document issued for credit note `credit_note_id`: its SHA-256, once.
    RecordCreditNoteDocument {
        credit_note_id: String,
        document: RecordDocument,
    },
    /// Records the legal document issued for the finalized invoice: its SHA-256, once.
    RecordDocument(RecordDocument),
    /// Brings the invoice forward to the state the provider reports (a Stripe event, or the
    /// answer to billstream's own request). States only move forward, so applying the same or
    /// an older report again records nothing.
    ApplyProviderState(InvoiceProviderState),
}

/// An invoice's state at the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceProviderState {
    pub status: super::InvoiceStatus,
    /// The number recorded if this report finalizes the invoice: the provider's own, or
    /// billstream's next sequential number when the provider assigns none (the sandbox).
    pub number: InvoiceNumber,
    pub finalized_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    pub hosted_invoice_url: Option<String>,
    pub pdf_url: Option<String>,
    pub amount_paid: i64,
    /// The provider's payment reference (PaymentIntent) of a paid invoice.
    pub payment_reference: Option<String>,
    pub paid_at: DateTime<Utc>,
    /// When the report was made (for voids and write-offs).
    pub at: DateTime<Utc>,
    /// The latest failed collection attempt, if the report is about one.
    pub payment_failure: Option<PaymentFailure>,
}

/// A failed attempt to collect an open invoice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentFailure {
    /// How many attempts the provider has made so far.
    pub attempt_count: u32,
    /// Why the last one failed, safe to show the customer.
    pub message: String,
    /// When the provider tries again (Unix seconds), if it will.
    pub next_payment_attempt: Option<i64>,
}

/// A draft invoice with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateInvoice {
    pub customer_id: String,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub memo: Option<String>,
    pub due_days: u32,
    pub collection_method: CollectionMethod,
    pub created_at: DateTime<Utc>,
    /// The provider's invoice, once it exists there.
    pub stripe_invoice_id: Option<String>,
    /// The provider's subscription that billed this invoice, if any.
    pub stripe_subscription_id: Option<String>,
    /// The provider's totals for an invoice born there (its lines may carry prorations and
    /// taxes billstream did not compute); `None` computes them from the lines.
    pub provider_totals: Option<super::InvoiceTotals>,
}

/// Finalization with the number allocated for it.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalizeInvoice {
    pub number: InvoiceNumber,
    pub finalized_at: DateTime<Utc>,
    pub due_date: NaiveDate,
}

/// An invoice number: billstream's own (`BS-2026-000042`, year and sequence kept so the event
/// store can hold the sequence gapless) or the provider's (no sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNumber {
    pub text: String,
    pub year: Option<i32>,
    pub sequence: Option<i64>,
}

impl InvoiceNumber {
    /// billstream's number `sequence` of `year`.
    pub fn sequential(year: i32, sequence: i64) -> Self {
        Self {
            text: format!("BS-{year}-{sequence:06}"),
            year: Some(year),
            sequence: Some(sequence),
        }
    }

    /// A number the provider assigned.
    pub fn from_provider(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            year: None,
            sequence: None,
        }
    }
}

/// A payment of the amount due.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordInvoicePayment {
    pub amount: i64,
    /// The provider's payment reference (PaymentIntent, charge).
    pub reference: String,
    pub paid_at: DateTime<Utc>,
}

/// The document issued at finalization (PDF/A-3 with its Factur-X XML), stored by the
/// service; the aggregate records which bytes are the legal document.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDocument {
    /// Hex SHA-256 of the stored PDF.
    pub sha256: String,
    pub at: DateTime<Utc>,
}
