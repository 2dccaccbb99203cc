//! The credit notes on the customer's invoice page: number, date, amount credited, reason and
//! a link to each one's legal PDF (`GET /invoices/{id}/credit-notes/{number}/pdf`).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use projections::CreditNoteRow;

use super::format::{date, money};
use super::page::{app_error_page, Visitor};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;

/// One credit note, as the invoice page lists it.
pub struct CreditNoteView {
    pub number: String,
    pub date: String,
    pub amount: String,
    pub reason: String,
    pub pdf_url: String,
}

impl CreditNoteView {
    /// The notes of an invoice for `visitor`.
    pub fn all(rows: &[CreditNoteRow], visitor: &Visitor) -> Vec<Self> {
        rows.iter()
            .map(|row| Self {
                number: row.number.clone(),
                date: date(&row.issued_at, visitor.lang),
                amount: money(row.total, &row.currency, visitor.lang),
                reason: row.reason.clone(),
                pdf_url: format!(
                    "/invoices/{}/credit-notes/{}/pdf",
                    row.invoice_id, row.number
                ),
            })
            .collect()
    }
}

/// `GET /invoices/{id}/credit-notes/{number}/pdf`: the note's legal PDF.
pub async fn pdf(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, number)): Path<(String, String)>,
) -> Response {
    let made = state
        .invoices
        .credit_note_file(&signed_in.customer_id, &number)
        .await
        .and_then(|(note, document)| {
            if note.invoice_id != id {
                return Err(AppError::NotFound);
            }
            let name: String = note
                .number
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Ok((
                [
                    (CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        CONTENT_DISPOSITION,
                        format!("attachment; filename=\"credit-note-{name}.pdf\""),
                    ),
                ],
                document.pdf,
            )
                .into_response())
        });
    made.unwrap_or_else(|error| app_error_page(&signed_in.visitor, error))
}
