//! What happened to an invoice.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::commands::{CollectionMethod, PaymentFailure};
use super::credit::{CreditNoteLine, CreditOutcome};
use super::lines::{InvoiceLine, InvoiceTotals};

/// Every event of the [`Invoice`](super::Invoice) aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InvoiceEvent {
    InvoiceCreated {
        customer_id: String,
        currency: String,
        lines: Vec<InvoiceLine>,
        totals: InvoiceTotals,
        memo: Option<String>,
        due_days: u32,
        collection_method: CollectionMethod,
        created_at: DateTime<Utc>,
        #[serde(default)]
        stripe_invoice_id: Option<String>,
        #[serde(default)]
        stripe_subscription_id: Option<String>,
    },
    /// Numbered and open. `year` and `sequence` are set for billstream's own numbers (the
    /// event store claims them, so they stay gapless); absent for the provider's numbers.
    InvoiceFinalized {
        number: String,
        year: Option<i32>,
        sequence: Option<i64>,
        due_date: NaiveDate,
        at: DateTime<Utc>,
        /// The provider's page and PDF for the invoice, when it has them.
        #[serde(default)]
        hosted_invoice_url: Option<String>,
        #[serde(default)]
        pdf_url: Option<String>,
    },
    InvoiceSent {
        at: DateTime<Utc>,
    },
    InvoicePaid {
        amount: i64,
        reference: String,
        at: DateTime<Utc>,
    },
    InvoiceVoided {
        at: DateTime<Utc>,
    },
    InvoiceMarkedUncollectible {
        at: DateTime<Utc>,
    },
    /// The legal document (PDF/A-3 with embedded Factur-X) was issued and stored: every later
    /// download hands out the bytes whose SHA-256 this is.
    InvoiceDocumentIssued {
        sha256: String,
        at: DateTime<Utc>,
    },
    /// A credit note (*avoir*) was issued on the finalized invoice, numbered `number`
    /// (`AV-year-sequence`, claimed gapless by the event store). A note that cancels the
    /// invoice is followed by `InvoiceVoided`.
    CreditNoteIssued {
        credit_note_id: String,
        number: String,
        year: i32,
        sequence: i64,
        lines: Vec<CreditNoteLine>,
        totals: InvoiceTotals,
        reason: String,
        outcome: CreditOutcome,
        at: DateTime<Utc>,
    },
    /// The legal document of credit note `credit_note_id` (PDF/A-3 with Factur-X type 381)
    /// was issued and stored: every later download hands out the bytes whose SHA-256 this is.
    CreditNoteDocumentIssued {
        credit_note_id: String,
        sha256: String,
        at: DateTime<Utc>,
    },
    /// An attempt to collect the invoice failed; it stays open.
    InvoicePaymentFailed {
        failure: PaymentFailure,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for InvoiceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::InvoiceCreated { .. } => "InvoiceCreated",
            Self::InvoiceFinalized { .. } => "InvoiceFinalized",
            Self::InvoiceSent { .. } => "InvoiceSent",
            Self::InvoicePaid { .. } => "InvoicePaid",
            Self::InvoiceVoided { .. } => "InvoiceVoided",
            Self::InvoiceMarkedUncollectible { .. } => "InvoiceMarkedUncollectible",
            Self::InvoicePaymentFailed { .. } => "InvoicePaymentFailed",
            Self::InvoiceDocumentIssued { .. } => "InvoiceDocumentIssued",
            Self::CreditNoteIssued { .. } => "CreditNoteIssued",
            Self::CreditNoteDocumentIssued { .. } => "CreditNoteDocumentIssued",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
