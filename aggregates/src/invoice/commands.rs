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
    Void { at: DateTime<Utc> },
    MarkUncollectible { at: DateTime<Utc> },
    Send { at: DateTime<Utc> },
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
