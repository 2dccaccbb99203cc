//! `/api/invoices/*`: create, finalize, pay, void, send, read, list, PDF, credit notes and
//! statistics.

mod bodies;
mod credit_notes;
mod documents;

use aggregates::invoice::InvoiceAction;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use bodies::{CountByStatus, CurrencyStats, InvoicePage, InvoiceStatsBody, ListParams, PayBody};
pub(super) use bodies::{CreateBody, InvoiceBody};

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthenticatedCustomer, IdempotencyKey, IdempotencyKeyHeader, RequestId};
use super::json::{ApiBytes, ApiJson};
use super::payments::parse_limit;
use super::AppState;

/// The routes under `/api/invoices`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(stats))
        .routes(routes!(show))
        .routes(routes!(finalize))
        .routes(routes!(pay))
        .routes(routes!(void))
        .routes(routes!(send))
        .routes(routes!(documents::pdf))
        .routes(routes!(documents::facturx_xml))
        .routes(routes!(documents::ubl_xml))
        .routes(routes!(credit_notes::create, credit_notes::list))
}

/// The routes under `/api/credit-notes`: each credit note's legal document.
pub fn credit_note_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credit_notes::pdf))
        .routes(routes!(credit_notes::facturx_xml))
        .routes(routes!(credit_notes::ubl_xml))
}

/// Creates an invoice for the caller (optionally finalized at once). With an
/// `Idempotency-Key`, a retry returns the same invoice.
#[utoipa::path(post, path = "/create", tag = "invoices", security(("customer_token" = [])),
    params(IdempotencyKeyHeader), request_body = CreateBody,
    responses(
        (status = 201, description = "The invoice", body = InvoiceBody),
        (status = 409, description = "`idempotency_key_reused` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<InvoiceBody>), ApiError> {
    let row = state
        .invoices
        .create(
            &auth.customer_id,
            body.into_request(idempotency_key),
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One of the caller's invoices; another customer's is 404.
#[utoipa::path(get, path = "/{invoice_id}", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses((status = 200, description = "The invoice", body = InvoiceBody)))]
async fn show(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    let row = state.invoices.owned(&auth.customer_id, &invoice_id).await?;
    Ok(Json(row.into()))
}

async fn act(
    state: &AppState,
    auth: &AuthenticatedCustomer,
    request_id: &RequestId,
    invoice_id: &str,
    action: InvoiceAction,
) -> Result<Json<InvoiceBody>, ApiError> {
    let row = state
        .invoices
        .act(&auth.customer_id, invoice_id, action, request_id.as_deref())
        .await?;
    Ok(Json(row.into()))
}

/// Finalizes a draft: it gets its number and becomes payable.
#[utoipa::path(post, path = "/{invoice_id}/finalize", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice, `open`", body = InvoiceBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn finalize(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    act(
        &state,
        &auth,
        &request_id,
        &invoice_id,
        InvoiceAction::Finalize,
    )
    .await
}

/// Voids a draft. A finalized invoice cannot be voided: it is corrected by a credit note
/// (`POST /api/invoices/{invoice_id}/credit-notes`), and a full one cancels an unpaid invoice.
#[utoipa::path(post, path = "/{invoice_id}/void", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice, `void`", body = InvoiceBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn void(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    act(&state, &auth, &request_id, &invoice_id, InvoiceAction::Void).await
}

/// Sends an open invoice to the customer.
#[utoipa::path(post, path = "/{invoice_id}/send", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice, with `sent_at`", body = InvoiceBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn send(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    act(&state, &auth, &request_id, &invoice_id, InvoiceAction::Send).await
}

/// Pays an open invoice with a card (or the default payment method). A decline leaves it
/// `open` with `attempt_count` and `last_payment_error`.
#[utoipa::path(post, path = "/{invoice_id}/pay", tag = "invoices", security(("customer_token" = [])), params(("invoice_id" = String, Path, description = "The invoice's id")),
    request_body(content = Option<PayBody>, description = "Optional: empty charges the default payment method"),
    responses(
        (status = 200, description = "The invoice, `paid` or still `open`", body = InvoiceBody),
        (status = 409, description = "`invalid_state` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn pay(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<InvoiceBody>, ApiError> {
    // The body is optional: empty means "charge the default payment method".
    let body: PayBody = super::json::parse_optional_json(&body)?;
    let row = state
        .invoices
        .pay(
            &auth.customer_id,
            &invoice_id,
            body.payment_method.as_deref(),
            request_id.as_deref(),
        )
        .await?;
    Ok(Json(row.into()))
}

/// The caller's invoices, newest first.
#[utoipa::path(get, path = "/list", tag = "invoices", security(("customer_token" = [])), params(ListParams),
    responses((status = 200, description = "A page of invoices", body = InvoicePage)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Query(params): Query<ListParams>,
) -> Result<Json<InvoicePage>, ApiError> {
    let limit = parse_limit(params.limit.as_deref())?;
    let page = state
        .invoices
        .list(
            &auth.customer_id,
            params.status.as_deref().filter(|s| !s.is_empty()),
            limit,
            params.cursor.as_deref(),
        )
        .await?;
    Ok(Json(InvoicePage {
        data: page.data.into_iter().map(InvoiceBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The caller's invoice figures per currency.
#[utoipa::path(get, path = "/stats", tag = "invoices", security(("customer_token" = [])),
    responses((status = 200, description = "Counts and totals per currency", body = InvoiceStatsBody)))]
async fn stats(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
) -> Result<Json<InvoiceStatsBody>, ApiError> {
    let rows = state.stats.customer_invoices(&auth.customer_id).await?;
    Ok(Json(InvoiceStatsBody {
        data: rows
            .into_iter()
            .map(|row| CurrencyStats {
                currency: row.currency,
                count_by_status: CountByStatus {
                    draft: row.draft,
                    open: row.open,
                    paid: row.paid,
                    void: row.void,
                    uncollectible: row.uncollectible,
                },
                total_invoiced: row.total_invoiced,
                total_paid: row.total_paid,
                total_outstanding: row.total_outstanding,
                total_overdue: row.total_overdue,
            })
            .collect(),
    }))
}
