//! `/invoices`: the list (status filter, paging), each invoice's page (pay with the saved card
//! or a new one, issue a draft, download the PDF, the signed link to share), and the PDF.

use aggregates::invoice::InvoiceStatus;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::card::CardForm;
use super::credit_notes::CreditNoteView;
use super::format::date;
use super::forms::FormData;
use super::i18n::fill;
use super::invoice_view::{status_label, InvoiceView};
use super::page::{
    app_error_page, error_text, redirect, redirect_with, Flash, Frame, Nav, Visitor,
};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;

/// Invoices per page.
const PAGE_SIZE: i64 = 10;

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one, comma-separated (for "newer invoices").
    trail: Option<String>,
}

/// A row of the list.
pub struct RowView {
    pub id: String,
    pub number: String,
    pub issued: String,
    pub due: String,
    pub total: String,
    pub status: String,
    pub status_label: &'static str,
    pub payable: bool,
    /// Finalized, so it has its legal document (a draft has none to download).
    pub issued_document: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "invoices.html")]
pub struct ListPage {
    f: Frame,
    rows: Vec<RowView>,
    /// (value, label, selected) of the status filter.
    filters: Vec<(&'static str, &'static str, bool)>,
    filtered: bool,
    older: String,
    newer: String,
}

fn link(status: &str, cursor: Option<&str>, trail: &[&str]) -> String {
    let mut query = vec![];
    if !status.is_empty() {
        query.push(format!("status={status}"));
    }
    if let Some(cursor) = cursor {
        query.push(format!("cursor={}", super::forms::encode(cursor)));
    }
    if !trail.is_empty() {
        query.push(format!("trail={}", super::forms::encode(&trail.join(","))));
    }
    if query.is_empty() {
        "/invoices".to_owned()
    } else {
        format!("/invoices?{}", query.join("&"))
    }
}

/// `GET /invoices?status=&cursor=&trail=`.
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ListQuery>,
) -> Response {
    let visitor = &signed_in.visitor;
    let (t, lang) = (visitor.t, visitor.lang);
    let status = query
        .status
        .as_deref()
        .filter(|status| InvoiceStatus::parse(status).is_some())
        .unwrap_or("");
    let cursor = query.cursor.as_deref().filter(|cursor| !cursor.is_empty());
    let page = match state
        .invoices
        .list(
            &signed_in.customer_id,
            Some(status).filter(|s| !s.is_empty()),
            Some(PAGE_SIZE),
            cursor,
        )
        .await
    {
        Ok(page) => page,
        // A stale or edited cursor: start again from the newest.
        Err(AppError::Validation(_)) => return redirect(&link(status, None, &[])),
        Err(error) => return app_error_page(visitor, error),
    };
    let trail: Vec<&str> = query
        .trail
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|cursor| !cursor.is_empty())
        .collect();
    let older = match (&page.next_cursor, cursor) {
        (Some(next), Some(current)) => {
            let mut deeper = trail.clone();
            deeper.push(current);
            link(status, Some(next), &deeper)
        }
        (Some(next), None) => link(status, Some(next), &[]),
        (None, _) => String::new(),
    };
    let newer = match cursor {
        None => String::new(),
        Some(_) => match trail.split_last() {
            Some((previous, before)) => link(status, Some(previous), before),
            None => link(status, None, &[]),
        },
    };
    let statuses = ["draft", "open", "paid", "void", "uncollectible"];
    let mut filters = vec![("", t.all_statuses, status.is_empty())];
    filters.extend(
        statuses
            .iter()
            .map(|value| (*value, status_label(t, value), *value == status)),
    );
    let rows = page
        .data
        .iter()
        .map(|row| RowView {
            id: row.invoice_id.clone(),
            number: row.number.clone().unwrap_or_else(|| t.inv_draft.to_owned()),
            issued: date(row.finalized_at.as_deref().unwrap_or(&row.created_at), lang),
            due: row
                .due_date
                .as_deref()
                .map(|due| date(due, lang))
                .unwrap_or_default(),
            total: super::format::money(row.total, &row.currency, lang),
            status: row.status.clone(),
            status_label: status_label(t, &row.status),
            payable: InvoiceStatus::parse(&row.status) == Some(InvoiceStatus::Open)
                && row.amount_due() > 0,
            issued_document: row.number.is_some(),
        })
        .collect();
    ListPage {
        f: visitor.frame(t.invoices_title, Nav::Invoices),
        rows,
        filters,
        filtered: !status.is_empty(),
        older,
        newer,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "invoice.html")]
pub struct InvoicePage {
    f: Frame,
    invoice: InvoiceView,
    card: Option<CardForm>,
    share_url: String,
    share_help: String,
    message: String,
    pdf_url: String,
    credit_notes: Vec<CreditNoteView>,
}

/// The invoice's page, with `message` about the last action.
fn invoice_page(
    state: &AppState,
    visitor: &Visitor,
    (row, notes): (&projections::InvoiceRow, &[projections::CreditNoteRow]),
    message: String,
) -> InvoicePage {
    let t = visitor.t;
    let invoice = InvoiceView::of(row, visitor);
    let card = invoice.payable.then(|| {
        CardForm::new(
            visitor,
            format!("/invoices/{}/pay", invoice.id),
            t.pay_new_card.to_owned(),
            Vec::new(),
            String::new(),
        )
    });
    let (share_url, share_help) = if !invoice.finalized {
        (String::new(), String::new())
    } else if !visitor.sandbox && !invoice.hosted_url.is_empty() {
        (invoice.hosted_url.clone(), t.share_stripe_help.to_owned())
    } else {
        let (path, expires) = state
            .invoice_links
            .path(&invoice.id, Utc::now().timestamp());
        let until = chrono::DateTime::from_timestamp(expires, 0)
            .map(|at| date(&at.to_rfc3339(), visitor.lang))
            .unwrap_or_default();
        (path, fill(t.share_help, &[("date", &until)]))
    };
    InvoicePage {
        f: visitor.card_frame(invoice.title.clone(), Nav::Invoices),
        pdf_url: format!("/invoices/{}/pdf", invoice.id),
        credit_notes: CreditNoteView::all(notes, visitor),
        invoice,
        card,
        share_url,
        share_help,
        message,
    }
}

/// The customer's invoice and its credit notes.
async fn with_notes(
    state: &AppState,
    customer_id: &str,
    id: &str,
) -> Result<(projections::InvoiceRow, Vec<projections::CreditNoteRow>), AppError> {
    let row = state.invoices.owned(customer_id, id).await?;
    let notes = state.invoices.credit_notes(customer_id, id).await?;
    Ok((row, notes))
}

/// `GET /invoices/{id}`.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let visitor = &signed_in.visitor;
    match with_notes(&state, &signed_in.customer_id, &id).await {
        Ok((row, notes)) => {
            invoice_page(&state, visitor, (&row, &notes), String::new()).into_response()
        }
        Err(error) => app_error_page(visitor, error),
    }
}

/// `POST /invoices/{id}/pay` (`payment_method`, empty for the saved card).
pub async fn pay(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let visitor = &signed_in.visitor;
    let form = FormData::parse(&body);
    let method = form.get("payment_method");
    let paid = state
        .invoices
        .pay(
            &signed_in.customer_id,
            &id,
            Some(method.as_str()).filter(|m| !m.is_empty()),
            None,
        )
        .await;
    after_payment(&state, visitor, &signed_in.customer_id, &id, paid).await
}

/// The invoice's page after a payment attempt: paid, or its reason in plain words.
async fn after_payment(
    state: &AppState,
    visitor: &Visitor,
    customer_id: &str,
    id: &str,
    paid: Result<projections::InvoiceRow, AppError>,
) -> Response {
    let t = visitor.t;
    let message = match paid {
        Ok(row) if InvoiceStatus::parse(&row.status) == Some(InvoiceStatus::Paid) => {
            return redirect_with(&format!("/invoices/{id}"), Flash::InvoicePaid);
        }
        Ok(_) => String::new(),
        Err(AppError::Validation(_)) => t.err_payment_method.to_owned(),
        Err(error) => error_text(t, &error),
    };
    match with_notes(state, customer_id, id).await {
        Ok((row, notes)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            invoice_page(state, visitor, (&row, &notes), message),
        )
            .into_response(),
        Err(error) => app_error_page(visitor, error),
    }
}

/// `POST /invoices/{id}/finalize`: issues a draft.
pub async fn finalize(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    match state
        .invoices
        .act(
            &signed_in.customer_id,
            &id,
            aggregates::invoice::InvoiceAction::Finalize,
            None,
        )
        .await
    {
        Ok(_) => redirect_with(&format!("/invoices/{id}"), Flash::InvoiceFinalized),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// The PDF as a download named after the invoice.
pub fn pdf_response(bytes: Vec<u8>, row: &projections::InvoiceRow) -> Response {
    let name: String = row
        .number
        .as_deref()
        .unwrap_or(&row.invoice_id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    (
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"invoice-{name}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /invoices/{id}/pdf`.
pub async fn pdf(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let customer = &signed_in.customer_id;
    let made = async {
        let row = state.invoices.owned(customer, &id).await?;
        let bytes = state.invoices.pdf(customer, &id).await?;
        Ok::<_, AppError>(pdf_response(bytes, &row))
    }
    .await;
    made.unwrap_or_else(|error| app_error_page(&signed_in.visitor, error))
}
