//! What an issued credit note says, taken from the event log alone: the corrected invoice's
//! document (seller, buyer as the invoice named them, language, currency) with the note's
//! number, date, credited lines and totals, its reason as the note, and a reference to the
//! invoice's number and date.

use aggregates::invoice::{CreditNoteLine, InvoiceEvent, InvoiceTotals};
use chrono::{DateTime, Utc};
use invoice_documents::{DocumentKind, InvoiceDocument, Language, Line, Seller, Totals};
use projections::event_log::{self, EventFilter};
use sqlx::SqlitePool;

use super::legal_source::legal_document;
use crate::error::AppError;

/// The note's facts, as its event recorded them.
struct Note {
    number: String,
    lines: Vec<CreditNoteLine>,
    totals: InvoiceTotals,
    reason: String,
    at: DateTime<Utc>,
}

/// Everything to render credit note `credit_note_id` of invoice `invoice_id`, or `None` when
/// the invoice has no such note.
pub async fn credit_note_document(
    pool: &SqlitePool,
    invoice_id: &str,
    credit_note_id: &str,
    seller: &Seller,
    default_language: Language,
) -> Result<Option<InvoiceDocument>, AppError> {
    let Some(note) = note_of(pool, invoice_id, credit_note_id).await? else {
        return Ok(None);
    };
    let Some(invoice) = legal_document(pool, invoice_id, seller, default_language).await? else {
        return Ok(None);
    };
    let issue_date = note.at.date_naive();
    let lines = note
        .lines
        .iter()
        .map(|line| Line {
            description: line.description.clone(),
            quantity: line.quantity,
            unit_price: line.unit_amount,
            vat_rate_bps: u32::try_from(line.tax_rate_bps).unwrap_or(u32::MAX),
            subtotal: line.subtotal,
            vat: line.tax,
        })
        .collect();
    Ok(Some(InvoiceDocument {
        kind: DocumentKind::CreditNote {
            original_number: invoice.number.clone(),
            original_issue_date: invoice.issue_date,
        },
        number: note.number,
        issue_date,
        // The service the note corrects is the invoice's.
        service: invoice.service,
        due_date: issue_date,
        totals: Totals {
            subtotal: note.totals.subtotal,
            tax: note.totals.tax,
            total: note.totals.total,
            amount_paid: 0,
            amount_due: note.totals.total,
        },
        lines,
        paid: false,
        memo: Some(note.reason),
        document_id: credit_note_id.to_owned(),
        created_at: note.at.naive_utc(),
        ..invoice
    }))
}

async fn note_of(
    pool: &SqlitePool,
    invoice_id: &str,
    credit_note_id: &str,
) -> Result<Option<Note>, AppError> {
    let mut conn = pool.acquire().await?;
    let filter = EventFilter {
        aggregate_type: Some("Invoice".to_owned()),
        aggregate_id: Some(invoice_id.to_owned()),
        ..EventFilter::default()
    };
    for stored in event_log::read(&mut conn, &filter, 0, i64::MAX).await? {
        if stored.event_type != "CreditNoteIssued" {
            continue;
        }
        if let InvoiceEvent::CreditNoteIssued {
            credit_note_id: id,
            number,
            lines,
            totals,
            reason,
            at,
            ..
        } = stored.decode().map_err(AppError::internal)?
        {
            if id == credit_note_id {
                return Ok(Some(Note {
                    number,
                    lines,
                    totals,
                    reason,
                    at,
                }));
            }
        }
    }
    Ok(None)
}
