//! An invoice's legal document, as issued once at finalization: the PDF/A-3 (with its
//! Factur-X XML embedded), the CII XML alone, and the same invoice in UBL 2.1. Every response
//! is the stored document, byte for byte; a draft has none yet (409).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::super::error::{ApiError, ErrorBody};
use super::super::extract::AuthenticatedCustomer;
use super::super::AppState;
use crate::usecases::invoices::IssuedDocument;

/// One part of the customer's issued document, as a download named `filename`.
async fn download(
    state: &AppState,
    auth: &AuthenticatedCustomer,
    invoice_id: &str,
    content_type: &str,
    filename: String,
    part: fn(IssuedDocument) -> Vec<u8>,
) -> Result<Response, ApiError> {
    let document = state
        .invoices
        .document(&auth.customer_id, invoice_id)
        .await?;
    Ok(attachment(content_type, filename, part(document)))
}

/// A download named `filename`.
pub(super) fn attachment(
    content_type: &str,
    filename: String,
    body: impl IntoResponse,
) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The invoice's legal PDF: PDF/A-3b with the Factur-X (EN 16931) XML embedded as
/// `factur-x.xml`, issued once when the invoice was finalized.
#[utoipa::path(get, path = "/{invoice_id}/pdf", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"invoice-<id>.pdf\"`"))),
        (status = 409, description = "`invalid_state`: a draft (no document until it is finalized)", body = ErrorBody),
    ))]
pub(super) async fn pdf(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Response, ApiError> {
    download(
        &state,
        &auth,
        &invoice_id,
        "application/pdf",
        format!("invoice-{invoice_id}.pdf"),
        |document| document.pdf,
    )
    .await
}

/// The invoice's Factur-X XML (UN/CEFACT CII, EN 16931 profile), the one embedded in its PDF.
#[utoipa::path(get, path = "/{invoice_id}/facturx.xml", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The CII XML", content_type = "application/xml", body = String),
        (status = 409, description = "`invalid_state`: a draft (no document until it is finalized)", body = ErrorBody),
    ))]
pub(super) async fn facturx_xml(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Response, ApiError> {
    download(
        &state,
        &auth,
        &invoice_id,
        "application/xml",
        format!("invoice-{invoice_id}-factur-x.xml"),
        |document| document.facturx_xml.into_bytes(),
    )
    .await
}

/// The same invoice in UBL 2.1 (EN 16931), with the same content and totals.
#[utoipa::path(get, path = "/{invoice_id}/ubl.xml", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The UBL XML", content_type = "application/xml", body = String),
        (status = 409, description = "`invalid_state`: a draft (no document until it is finalized)", body = ErrorBody),
    ))]
pub(super) async fn ubl_xml(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Response, ApiError> {
    download(
        &state,
        &auth,
        &invoice_id,
        "application/xml",
        format!("invoice-{invoice_id}-ubl.xml"),
        |document| document.ubl_xml.into_bytes(),
    )
    .await
}
