//! Gapless invoice and credit note numbers. The next sequence of the year is proposed; the
//! event store accepts it only if no other finalization (or credit note) committed it first
//! (see the `invoice_numbers_claim` and `credit_note_numbers_claim` triggers), and a refused
//! proposal is followed by the next one. Nothing is reserved ahead of the commit, so a failed
//! or interrupted finalization leaves no hole.

use std::collections::HashMap;
use std::time::Duration;

use aggregates::invoice::InvoiceProviderState;
use aggregates::invoice::{
    CreditNoteNumber, FinalizeInvoice, InvoiceCommand, InvoiceError, InvoiceNumber,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use cqrs_es::AggregateError;
use rand::Rng;
use sqlx::SqlitePool;

use crate::store::InvoiceCqrs;

/// How many proposals one finalization makes before giving up (only under extreme contention).
const MAX_PROPOSALS: usize = 500;

/// Why an invoice could not be numbered.
#[derive(Debug, thiserror::Error)]
pub enum NumberingError {
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    #[error("the event store failed: {0}")]
    Store(String),
    #[error("too many concurrent finalizations; retry")]
    Contention,
}

/// Which gapless sequence a number is taken from.
#[derive(Debug, Clone, Copy)]
enum Sequence {
    Invoices,
    CreditNotes,
}

/// The next sequence of `year` as committed so far.
async fn next_sequence(
    pool: &SqlitePool,
    sequence: Sequence,
    year: i32,
) -> Result<i64, sqlx::Error> {
    let query = match sequence {
        Sequence::Invoices => {
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM invoice_numbers WHERE year = ?"
        }
        Sequence::CreditNotes => {
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM credit_note_numbers WHERE year = ?"
        }
    };
    sqlx::query_scalar(query).bind(year).fetch_one(pool).await
}

/// Runs the command `build` makes from a proposed number (the next of `year` in `sequence`),
/// proposing again whenever another command claimed it first.
async fn execute_numbered<N: Clone>(
    cqrs: &InvoiceCqrs,
    pool: &SqlitePool,
    invoice_id: &str,
    (sequence_kind, year): (Sequence, i32),
    numbered: impl Fn(i32, i64) -> N,
    build: impl Fn(N) -> InvoiceCommand,
    metadata: HashMap<String, String>,
) -> Result<N, NumberingError> {
    for _ in 0..MAX_PROPOSALS {
        let sequence = next_sequence(pool, sequence_kind, year)
            .await
            .map_err(|error| NumberingError::Store(error.to_string()))?;
        let number = numbered(year, sequence);
        match cqrs
            .execute_with_metadata(invoice_id, build(number.clone()), metadata.clone())
            .await
        {
            Ok(()) => return Ok(number),
            // Someone committed this number (or changed this invoice) first: look again.
            Err(AggregateError::AggregateConflict) => {
                let pause = rand::rng().random_range(0..3);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Err(AggregateError::UserError(error)) => return Err(error.into()),
            Err(other) => return Err(NumberingError::Store(other.to_string())),
        }
    }
    Err(NumberingError::Contention)
}

/// Brings an invoice to the provider's state. Should that finalize it without a provider
/// number, billstream's next number of the finalization year is recorded.
pub async fn apply_provider_state(
    cqrs: &InvoiceCqrs,
    pool: &SqlitePool,
    invoice_id: &str,
    state: InvoiceProviderState,
    metadata: HashMap<String, String>,
) -> Result<(), NumberingError> {
    let year = state.finalized_at.year();
    let provider_number = state
        .number
        .sequence
        .is_none()
        .then(|| state.number.clone());
    execute_numbered(
        cqrs,
        pool,
        invoice_id,
        (Sequence::Invoices, year),
        InvoiceNumber::sequential,
        |proposed| {
            let mut state = state.clone();
            state.number = provider_number.clone().unwrap_or(proposed);
            InvoiceCommand::ApplyProviderState(state)
        },
        metadata,
    )
    .await
    .map(|_| ())
}

/// Finalizes a draft with the next number of its finalization year.
pub async fn finalize_with_next_number(
    cqrs: &InvoiceCqrs,
    pool: &SqlitePool,
    invoice_id: &str,
    finalized_at: DateTime<Utc>,
    due_date: NaiveDate,
    metadata: HashMap<String, String>,
) -> Result<InvoiceNumber, NumberingError> {
    execute_numbered(
        cqrs,
        pool,
        invoice_id,
        (Sequence::Invoices, finalized_at.year()),
        InvoiceNumber::sequential,
        |number| {
            InvoiceCommand::Finalize(FinalizeInvoice {
                number,
                finalized_at,
                due_date,
            })
        },
        metadata,
    )
    .await
}

/// Issues a credit note on an invoice with the next credit note number of the year of `at`;
/// `build` makes the command from the proposed number.
pub async fn credit_with_next_number(
    cqrs: &InvoiceCqrs,
    pool: &SqlitePool,
    invoice_id: &str,
    at: DateTime<Utc>,
    build: impl Fn(CreditNoteNumber) -> InvoiceCommand,
    metadata: HashMap<String, String>,
) -> Result<CreditNoteNumber, NumberingError> {
    execute_numbered(
        cqrs,
        pool,
        invoice_id,
        (Sequence::CreditNotes, at.year()),
        CreditNoteNumber::sequential,
        build,
        metadata,
    )
    .await
}
