//! `/api/invoices/{invoice_id}/credit-notes`: issue a credit note (*avoir*) on a finalized
//! invoice — whole, or a quantity of some lines — and list them; `/api/credit-notes/{id}/…`:
//! download each one's legal document (PDF/A-3 with Factur-X type 381, the CII XML alone, UBL
//! `CreditNote`), issued once. A note is named by its id or its number (`AV-2026-000001`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use projections::CreditNoteRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::error::{ApiError, ErrorBody};
use super::super::extract::{
    AuthenticatedCustomer, IdempotencyKey, IdempotencyKeyHeader, RequestId,
};
use super::super::json::ApiJson;
use super::super::AppState;
use super::documents::attachment;
use crate::usecases::invoices::{CreditNoteRequest, IssuedDocument, RequestedCredit};

/// A quantity of one invoice line to credit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLineBody {
    /// The line's index on the invoice, from 0 (the order of `lines` in the invoice).
    line: i64,
    /// 1 to what is left to credit of the line.
    quantity: i64,
}

/// The body of a credit note: a reason (1 to 500 characters) and, for a partial note, the
/// quantities of lines it credits; without `lines` it credits everything left to credit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Une séance annulée", "lines": [{"line": 0, "quantity": 1}]}))]
pub struct CreditBody {
    reason: String,
    #[serde(default)]
    lines: Option<Vec<CreditLineBody>>,
}

/// One credited line with its amounts.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreditedLineBody {
    /// The index of the credited line on the invoice.
    line: i64,
    description: String,
    quantity: i64,
    unit_amount: i64,
    tax_rate_bps: i64,
    subtotal: i64,
    tax: i64,
    total: i64,
}

/// A credit note. Amounts in minor units, positive (they are credited); `outcome` is
/// `reduces_amount_due`, `cancels_invoice` (an unpaid invoice credited in full is void) or
/// `refund` (the invoice was paid: the amount goes back to the customer).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"credit_note_id": "0b6f5a2e-7c1d-4e3f-9a8b-2c4d6e8f0a1b", "invoice_id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "number": "AV-2026-000001", "currency": "eur", "lines": [{"line": 0, "description": "Consulting", "quantity": 1, "unit_amount": 10000, "tax_rate_bps": 2000, "subtotal": 10000, "tax": 2000, "total": 12000}], "subtotal": 10000, "tax": 2000, "total": 12000, "reason": "Une séance annulée", "outcome": "reduces_amount_due", "issued_at": "2026-11-24T10:00:00.000Z", "document_sha256": "3f0c5e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b", "pdf_url": "/api/credit-notes/AV-2026-000001/pdf"}))]
pub struct CreditNoteBody {
    credit_note_id: String,
    invoice_id: String,
    number: String,
    currency: String,
    lines: Vec<CreditedLineBody>,
    subtotal: i64,
    tax: i64,
    total: i64,
    reason: String,
    outcome: String,
    issued_at: String,
    /// SHA-256 of the note's legal PDF, once issued.
    document_sha256: Option<String>,
    /// The note's legal PDF.
    pdf_url: String,
}

impl From<CreditNoteRow> for CreditNoteBody {
    fn from(row: CreditNoteRow) -> Self {
        Self {
            pdf_url: format!("/api/credit-notes/{}/pdf", row.number),
            lines: serde_json::from_str(&row.lines).unwrap_or_default(),
            credit_note_id: row.credit_note_id,
            invoice_id: row.invoice_id,
            number: row.number,
            currency: row.currency,
            subtotal: row.subtotal,
            tax: row.tax,
            total: row.total,
            reason: row.reason,
            outcome: row.outcome,
            issued_at: row.issued_at,
            document_sha256: row.document_sha256,
        }
    }
}

/// An invoice's credit notes, oldest first.
#[derive(Serialize, ToSchema)]
pub struct CreditNoteList {
    data: Vec<CreditNoteBody>,
}

/// Issues a credit note on a finalized (open, paid or uncollectible) invoice. On an unpaid
/// invoice it reduces what is due, and one crediting everything left cancels the invoice
/// (`void`); on a paid invoice the credited amount is refunded. Its number is the next
/// `AV-year-sequence`. With an `Idempotency-Key`, a retry returns the same note.
#[utoipa::path(post, path = "/{invoice_id}/credit-notes", tag = "invoices", security(("customer_token" = [])),
    params(("invoice_id" = String, Path, description = "The invoice's id"), IdempotencyKeyHeader),
    request_body = CreditBody,
    responses(
        (status = 201, description = "The credit note", body = CreditNoteBody),
        (status = 409, description = "`invalid_state` (a draft or void invoice) or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
pub(super) async fn create(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<CreditBody>,
) -> Result<(StatusCode, Json<CreditNoteBody>), ApiError> {
    let request = CreditNoteRequest {
        lines: body.lines.map(|lines| {
            lines
                .into_iter()
                .map(|line| RequestedCredit {
                    line: line.line,
                    quantity: line.quantity,
                })
                .collect()
        }),
        reason: body.reason,
        idempotency_key,
    };
    let row = state
        .invoices
        .credit(
            &auth.customer_id,
            &invoice_id,
            request,
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// The invoice's credit notes, oldest first.
#[utoipa::path(get, path = "/{invoice_id}/credit-notes", tag = "invoices", security(("customer_token" = [])),
    params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses((status = 200, description = "The credit notes", body = CreditNoteList)))]
pub(super) async fn list(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Json<CreditNoteList>, ApiError> {
    let rows = state
        .invoices
        .credit_notes(&auth.customer_id, &invoice_id)
        .await?;
    Ok(Json(CreditNoteList {
        data: rows.into_iter().map(CreditNoteBody::from).collect(),
    }))
}

/// One part of a credit note's issued document, as a download.
async fn download(
    state: &AppState,
    auth: &AuthenticatedCustomer,
    credit_note: &str,
    (content_type, suffix): (&str, &str),
    part: fn(IssuedDocument) -> Vec<u8>,
) -> Result<Response, ApiError> {
    let (note, document) = state
        .invoices
        .credit_note_file(&auth.customer_id, credit_note)
        .await?;
    let filename = format!("credit-note-{}{suffix}", note.number);
    Ok(attachment(content_type, filename, part(document)))
}

/// The credit note's legal PDF: PDF/A-3b with its Factur-X XML (type 381) embedded.
#[utoipa::path(get, path = "/{credit_note_id}/pdf", tag = "invoices", security(("customer_token" = [])),
    params(("credit_note_id" = String, Path, description = "The credit note's id (or its number)")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"credit-note-<number>.pdf\"`"))),
    ))]
pub(super) async fn pdf(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(credit_note): Path<String>,
) -> Result<Response, ApiError> {
    let kind = ("application/pdf", ".pdf");
    download(&state, &auth, &credit_note, kind, |document| document.pdf).await
}

/// The credit note's Factur-X XML (CII, EN 16931, type 381), the one embedded in its PDF.
#[utoipa::path(get, path = "/{credit_note_id}/facturx.xml", tag = "invoices", security(("customer_token" = [])),
    params(("credit_note_id" = String, Path, description = "The credit note's id (or its number)")),
    responses((status = 200, description = "The CII XML", content_type = "application/xml", body = String)))]
pub(super) async fn facturx_xml(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(credit_note): Path<String>,
) -> Result<Response, ApiError> {
    let kind = ("application/xml", "-factur-x.xml");
    download(&state, &auth, &credit_note, kind, |document| {
        document.facturx_xml.into_bytes()
    })
    .await
}

/// The credit note in UBL 2.1 (`CreditNote`, EN 16931).
#[utoipa::path(get, path = "/{credit_note_id}/ubl.xml", tag = "invoices", security(("customer_token" = [])),
    params(("credit_note_id" = String, Path, description = "The credit note's id (or its number)")),
    responses((status = 200, description = "The UBL XML", content_type = "application/xml", body = String)))]
pub(super) async fn ubl_xml(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(credit_note): Path<String>,
) -> Result<Response, ApiError> {
    let kind = ("application/xml", "-ubl.xml");
    download(&state, &auth, &credit_note, kind, |document| {
        document.ubl_xml.into_bytes()
    })
    .await
}
