//! `/api/invoices/*`: create, finalize, pay, void, send, read, list, PDF and statistics.

use aggregates::invoice::InvoiceLine;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::InvoiceRow;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{AuthenticatedCustomer, IdempotencyKey, RequestId};
use super::json::ApiJson;
use super::payments::parse_limit;
use super::AppState;
use crate::usecases::invoices::NewInvoiceRequest;
use crate::usecases::invoices::RequestedLine;
use aggregates::invoice::InvoiceAction;

/// The routes under `/api/invoices`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/create", post(create))
        .route("/list", get(list))
        .route("/stats", get(stats))
        .route("/{invoice_id}", get(show))
        .route("/{invoice_id}/finalize", post(finalize))
        .route("/{invoice_id}/pay", post(pay))
        .route("/{invoice_id}/void", post(void))
        .route("/{invoice_id}/send", post(send))
        .route("/{invoice_id}/pdf", get(pdf))
}

/// One requested line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemBody {
    description: String,
    quantity: i64,
    unit_amount: i64,
    #[serde(default)]
    tax_rate_bps: Option<i64>,
}

/// The body of an invoice creation (customer's or operator's).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    currency: String,
    items: Vec<ItemBody>,
    #[serde(default)]
    memo: Option<String>,
    #[serde(default)]
    due_days: Option<i64>,
    #[serde(default)]
    collection_method: Option<String>,
    #[serde(default)]
    finalize: bool,
}

impl CreateBody {
    pub(super) fn into_request(self, idempotency_key: Option<String>) -> NewInvoiceRequest {
        NewInvoiceRequest {
            currency: self.currency,
            items: self
                .items
                .into_iter()
                .map(|item| RequestedLine {
                    description: item.description,
                    quantity: item.quantity,
                    unit_amount: item.unit_amount,
                    tax_rate_bps: item.tax_rate_bps,
                })
                .collect(),
            memo: self.memo,
            due_days: self.due_days,
            collection_method: self.collection_method,
            finalize: self.finalize,
            idempotency_key,
        }
    }
}

#[derive(Serialize)]
struct LineBody {
    description: String,
    quantity: i64,
    unit_amount: i64,
    tax_rate_bps: i64,
    subtotal: i64,
    tax: i64,
    total: i64,
}

/// An invoice as the API shows it. Amounts in minor units; times RFC 3339; dates ISO 8601.
#[derive(Serialize)]
pub(super) struct InvoiceBody {
    invoice_id: String,
    stripe_invoice_id: Option<String>,
    stripe_subscription_id: Option<String>,
    number: Option<String>,
    status: String,
    currency: String,
    lines: Vec<LineBody>,
    subtotal: i64,
    tax: i64,
    total: i64,
    amount_paid: i64,
    amount_due: i64,
    memo: Option<String>,
    collection_method: String,
    due_date: Option<String>,
    hosted_invoice_url: Option<String>,
    /// Stripe's PDF when Stripe gives one; otherwise billstream's own.
    pdf_url: String,
    attempt_count: i64,
    next_payment_attempt: Option<String>,
    last_payment_error: Option<String>,
    created_at: String,
    finalized_at: Option<String>,
    paid_at: Option<String>,
    sent_at: Option<String>,
}

impl From<InvoiceRow> for InvoiceBody {
    fn from(row: InvoiceRow) -> Self {
        let lines: Vec<InvoiceLine> = serde_json::from_str(&row.lines).unwrap_or_default();
        let amount_due = row.amount_due();
        Self {
            pdf_url: row
                .pdf_url
                .clone()
                .unwrap_or_else(|| format!("/api/invoices/{}/pdf", row.invoice_id)),
            invoice_id: row.invoice_id,
            stripe_invoice_id: row.stripe_invoice_id,
            stripe_subscription_id: row.stripe_subscription_id,
            number: row.number,
            status: row.status,
            currency: row.currency,
            lines: lines
                .into_iter()
                .map(|line| {
                    let amounts = line.amounts();
                    LineBody {
                        description: line.description,
                        quantity: line.quantity,
                        unit_amount: line.unit_amount,
                        tax_rate_bps: line.tax_rate_bps,
                        subtotal: amounts.subtotal,
                        tax: amounts.tax,
                        total: amounts.total,
                    }
                })
                .collect(),
            subtotal: row.subtotal,
            tax: row.tax,
            total: row.total,
            amount_paid: row.amount_paid,
            amount_due,
            memo: row.memo,
            collection_method: row.collection_method,
            due_date: row.due_date,
            hosted_invoice_url: row.hosted_invoice_url,
            attempt_count: row.attempt_count,
            next_payment_attempt: row.next_payment_attempt,
            last_payment_error: row.last_payment_error,
            created_at: row.created_at,
            finalized_at: row.finalized_at,
            paid_at: row.paid_at,
            sent_at: row.sent_at,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PayBody {
    #[serde(default)]
    payment_method: Option<String>,
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct ListBody {
    data: Vec<InvoiceBody>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct CountByStatus {
    draft: i64,
    open: i64,
    paid: i64,
    void: i64,
    uncollectible: i64,
}

#[derive(Serialize)]
struct CurrencyStats {
    currency: String,
    count_by_status: CountByStatus,
    total_invoiced: i64,
    total_paid: i64,
    total_outstanding: i64,
    total_overdue: i64,
}

#[derive(Serialize)]
struct StatsBody {
    data: Vec<CurrencyStats>,
}

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

async fn void(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    act(&state, &auth, &request_id, &invoice_id, InvoiceAction::Void).await
}

async fn send(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
) -> Result<Json<InvoiceBody>, ApiError> {
    act(&state, &auth, &request_id, &invoice_id, InvoiceAction::Send).await
}

async fn pay(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    Path(invoice_id): Path<String>,
    body: axum::body::Bytes,
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

async fn list(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Query(params): Query<ListParams>,
) -> Result<Json<ListBody>, ApiError> {
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
    Ok(Json(ListBody {
        data: page.data.into_iter().map(InvoiceBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn stats(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
) -> Result<Json<StatsBody>, ApiError> {
    let rows = state.stats.customer_invoices(&auth.customer_id).await?;
    Ok(Json(StatsBody {
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

async fn pdf(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    Path(invoice_id): Path<String>,
) -> Result<Response, ApiError> {
    let bytes = state
        .invoices
        .pdf(&auth.customer_id, &invoice_id, &state.seller)
        .await?;
    let filename = format!("invoice-{invoice_id}.pdf");
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
