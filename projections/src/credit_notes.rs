//! Read model of credit notes: one row per note in `invoice_credit_notes`, and the amount each
//! invoice has had credited (`invoices.amount_credited`). Kept by the invoices projection,
//! which hands the notes' events here.

use aggregates::invoice::{CreditNoteLine, CreditOutcome, InvoiceTotals};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

use crate::customer_profiles::format_timestamp;
use crate::statement::Statement;

/// A credit note as the API and the portal show it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CreditNoteRow {
    pub credit_note_id: String,
    pub invoice_id: String,
    pub customer_id: String,
    pub number: String,
    pub currency: String,
    /// JSON array of the credited lines.
    pub lines: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub reason: String,
    /// `reduces_amount_due`, `cancels_invoice` or `refund`.
    pub outcome: String,
    pub issued_at: String,
    pub position: i64,
    /// SHA-256 of the note's legal document, once issued.
    pub document_sha256: Option<String>,
}

/// A `CreditNoteIssued` event of invoice `invoice_id`, as the projection reads it.
pub struct IssuedNote<'a> {
    pub credit_note_id: &'a str,
    pub number: &'a str,
    pub lines: &'a [CreditNoteLine],
    pub totals: InvoiceTotals,
    pub reason: &'a str,
    pub outcome: CreditOutcome,
    pub at: &'a DateTime<Utc>,
}

/// The credit notes' queries.
pub struct CreditNotes;

impl CreditNotes {
    /// The notes of one invoice, oldest first.
    pub async fn of_invoice(
        db: impl SqliteExecutor<'_>,
        invoice_id: &str,
    ) -> Result<Vec<CreditNoteRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM invoice_credit_notes WHERE invoice_id = ? ORDER BY position, credit_note_id",
        )
        .bind(invoice_id)
        .fetch_all(db)
        .await
    }

    /// One note, by its id or its number.
    pub async fn find(
        db: impl SqliteExecutor<'_>,
        id_or_number: &str,
    ) -> Result<Option<CreditNoteRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM invoice_credit_notes WHERE credit_note_id = ?1 OR number = ?1 LIMIT 1",
        )
        .bind(id_or_number)
        .fetch_optional(db)
        .await
    }

    /// The statements that record a note issued on invoice `invoice_id` at log position
    /// `position`.
    pub(crate) fn insert(
        out: &mut Vec<Statement>,
        invoice_id: &str,
        position: i64,
        note: IssuedNote<'_>,
    ) {
        let outcome = serde_json::to_value(note.outcome)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push(
            Statement::new(
                "INSERT INTO invoice_credit_notes (credit_note_id, invoice_id, customer_id, number,
                currency, lines, subtotal, tax, total, reason, outcome, issued_at, position)
             SELECT ?1, invoice_id, customer_id, ?2, currency, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
               FROM invoices WHERE invoice_id = ?11",
            )
            .bind(note.credit_note_id)
            .bind(note.number)
            .bind(serde_json::to_string(note.lines).unwrap_or_else(|_| "[]".into()))
            .bind(note.totals.subtotal)
            .bind(note.totals.tax)
            .bind(note.totals.total)
            .bind(note.reason)
            .bind(outcome)
            .bind(format_timestamp(note.at))
            .bind(position)
            .bind(invoice_id),
        );
        out.push(
            Statement::new(
                "UPDATE invoices SET amount_credited = amount_credited + ?2, updated_at = ?3
              WHERE invoice_id = ?1",
            )
            .bind(invoice_id)
            .bind(note.totals.total)
            .bind(format_timestamp(note.at)),
        );
    }

    /// The statement that records the SHA-256 of a note's issued document.
    pub(crate) fn document_issued(out: &mut Vec<Statement>, credit_note_id: &str, sha256: &str) {
        out.push(
            Statement::new(
                "UPDATE invoice_credit_notes SET document_sha256 = ?2 WHERE credit_note_id = ?1",
            )
            .bind(credit_note_id)
            .bind(sha256),
        );
    }
}
