//! `/i/{id}?expires=…&signature=…`: an invoice reached through its signed, expiring link,
//! without signing in — its page, its PDF and, while it is open, a card form to pay it. An
//! expired or altered link gets a page that says so.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use projections::InvoiceRow;
use serde::Deserialize;

use super::card::CardForm;
use super::forms::FormData;
use super::invoice_view::InvoiceView;
use super::invoices::pdf_response;
use super::links::LinkError;
use super::page::{app_error_page, error_text, redirect_with, Flash, Frame, Nav, Visitor};
use crate::error::AppError;
use crate::http::AppState;

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: Option<String>,
    signature: Option<String>,
}

impl LinkQuery {
    fn query(&self) -> String {
        format!(
            "expires={}&signature={}",
            super::forms::encode(self.expires.as_deref().unwrap_or("")),
            super::forms::encode(self.signature.as_deref().unwrap_or(""))
        )
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public_invoice.html")]
pub struct PublicInvoicePage {
    f: Frame,
    invoice: InvoiceView,
    card: Option<CardForm>,
    pdf_url: String,
    message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "link_invalid.html")]
pub struct InvalidLinkPage {
    f: Frame,
    message: &'static str,
}

/// The invoice a link names, once its signature and expiry are checked.
async fn linked(
    state: &AppState,
    visitor: &Visitor,
    id: &str,
    link: &LinkQuery,
) -> Result<InvoiceRow, Response> {
    let t = visitor.t;
    let expires = link.expires.as_deref().and_then(|e| e.parse::<i64>().ok());
    let checked = match (expires, link.signature.as_deref()) {
        (Some(expires), Some(signature)) => {
            state
                .invoice_links
                .verify(id, expires, signature, Utc::now().timestamp())
        }
        _ => Err(LinkError::Tampered),
    };
    if let Err(error) = checked {
        let (status, message) = match error {
            LinkError::Expired => (StatusCode::GONE, t.link_expired),
            LinkError::Tampered => (StatusCode::FORBIDDEN, t.link_tampered),
        };
        let page = InvalidLinkPage {
            f: visitor.frame(t.link_invalid_title, Nav::None),
            message,
        };
        return Err((status, page).into_response());
    }
    state
        .invoices
        .by_signed_link(id)
        .await
        .map_err(|error| app_error_page(visitor, error))
}

fn page(
    visitor: &Visitor,
    row: &InvoiceRow,
    link: &LinkQuery,
    message: String,
) -> PublicInvoicePage {
    let invoice = InvoiceView::of(row, visitor);
    let query = link.query();
    let card = invoice.payable.then(|| {
        CardForm::new(
            visitor,
            format!("/i/{}/pay?{query}", invoice.id),
            format!("{} {}", visitor.t.pay, invoice.amount_due),
            Vec::new(),
            String::new(),
        )
    });
    PublicInvoicePage {
        f: visitor.card_frame(invoice.title.clone(), Nav::None),
        pdf_url: format!("/i/{}/pdf?{query}", invoice.id),
        invoice,
        card,
        message,
    }
}

/// `GET /i/{id}`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Response {
    match linked(&state, &visitor, &id, &link).await {
        Ok(row) => page(&visitor, &row, &link, String::new()).into_response(),
        Err(response) => response,
    }
}

/// `GET /i/{id}/pdf`.
pub async fn pdf(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Response {
    let row = match linked(&state, &visitor, &id, &link).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    match state.invoices.pdf(&row.customer_id, &id).await {
        Ok(bytes) => pdf_response(bytes, &row),
        Err(error) => app_error_page(&visitor, error),
    }
}

/// `POST /i/{id}/pay` (`payment_method`).
pub async fn pay(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
    body: Bytes,
) -> Response {
    let t = visitor.t;
    let row = match linked(&state, &visitor, &id, &link).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let form = FormData::parse(&body);
    let method = form.get("payment_method");
    let paid = state
        .invoices
        .pay(&row.customer_id, &id, Some(method.as_str()), None)
        .await;
    let message = match paid {
        Ok(after) if after.status == "paid" => {
            return redirect_with(&format!("/i/{id}?{}", link.query()), Flash::InvoicePaid)
        }
        Ok(_) => String::new(),
        Err(AppError::Validation(_)) => t.err_payment_method.to_owned(),
        Err(error) => error_text(t, &error),
    };
    let row = state.invoices.by_signed_link(&id).await.unwrap_or(row);
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page(&visitor, &row, &link, message),
    )
        .into_response()
}
