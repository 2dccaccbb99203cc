//! `/invoices/new`: an invoice of several lines (quantity, unit price, VAT rate), with live
//! totals computed in the browser exactly as the server computes them (`assets/js/money.js`).
//! Without JavaScript, "Add a line" and "Remove" are form posts that redraw the form.

use aggregates::money::Currency;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::format::{parse_amount, parse_rate};
use super::forms::{form_key, sent_key, FieldErrors, FormData};
use super::page::{error_text, redirect_with, Flash, Frame, Nav, Visitor};
use super::pay::{amount_message, CURRENCIES};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;
use crate::usecases::invoices::{NewInvoiceRequest, RequestedLine};

use aggregates::invoice::lines::{MAX_LINES, MAX_QUANTITY, MAX_TAX_RATE_BPS, MAX_UNIT_AMOUNT};

/// One line of the form, as typed, with its messages.
#[derive(Default)]
pub struct LineInput {
    pub description: String,
    pub quantity: String,
    pub unit_amount: String,
    pub tax_rate: String,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "invoice_new.html")]
pub struct NewInvoicePage {
    f: Frame,
    lines: Vec<LineInput>,
    /// (code, selected, decimals): the script reads a currency's decimals from the server's
    /// `Currency`, never from a list of its own.
    currencies: Vec<(&'static str, bool, u32)>,
    memo: String,
    due_days: String,
    finalize: bool,
    errors: FieldErrors,
    message: String,
    form_key: String,
}

impl NewInvoicePage {
    /// The invoice's limits, as the domain sets them, for the live totals (`data-limits`):
    /// lines, quantity, unit amount, VAT rate in basis points.
    fn limits(&self) -> String {
        format!("{MAX_LINES} {MAX_QUANTITY} {MAX_UNIT_AMOUNT} {MAX_TAX_RATE_BPS}")
    }

    /// "Line {n}" for the line at `index`.
    fn legend(&self, index: &usize) -> String {
        super::i18n::fill(self.f.t.line_legend, &[("n", &(index + 1).to_string())])
    }

    /// "Remove line {n}".
    fn remove_label(&self, index: &usize) -> String {
        super::i18n::fill(self.f.t.remove_line, &[("n", &(index + 1).to_string())])
    }
}

fn blank_line() -> LineInput {
    LineInput {
        quantity: "1".to_owned(),
        ..LineInput::default()
    }
}

fn page(
    visitor: &Visitor,
    currency: &str,
    lines: Vec<LineInput>,
    form: Option<&FormData>,
) -> NewInvoicePage {
    NewInvoicePage {
        f: visitor.frame(visitor.t.new_title, Nav::Invoices),
        lines,
        currencies: CURRENCIES
            .iter()
            .map(|code| {
                let decimals = Currency::parse("currency", code).map_or(2, |c| c.decimals());
                (*code, *code == currency, decimals)
            })
            .collect(),
        memo: form.map(|form| form.get("memo")).unwrap_or_default(),
        due_days: form.map_or_else(|| "30".to_owned(), |form| form.get("due_days")),
        finalize: form.is_none_or(|form| form.checked("finalize")),
        errors: FieldErrors::default(),
        message: String::new(),
        form_key: form.map_or_else(form_key, sent_key),
    }
}

/// `GET /invoices/new`.
pub async fn new_form(signed_in: SignedIn) -> Response {
    page(&signed_in.visitor, "eur", vec![blank_line()], None).into_response()
}

/// The lines as typed.
fn typed_lines(form: &FormData) -> Vec<LineInput> {
    let descriptions = form.all("description");
    let quantities = form.all("quantity");
    let units = form.all("unit_amount");
    let rates = form.all("tax_rate");
    let at = |values: &Vec<String>, index: usize| values.get(index).cloned().unwrap_or_default();
    (0..descriptions.len().clamp(1, MAX_LINES + 1))
        .map(|index| LineInput {
            description: at(&descriptions, index),
            quantity: at(&quantities, index),
            unit_amount: at(&units, index),
            tax_rate: at(&rates, index),
            errors: FieldErrors::default(),
        })
        .collect()
}

/// `POST /invoices/new`: creates the invoice (or, without JavaScript, adds or removes a line).
pub async fn create(State(state): State<AppState>, signed_in: SignedIn, body: Bytes) -> Response {
    let visitor = &signed_in.visitor;
    let t = visitor.t;
    let form = FormData::parse(&body);
    let mut lines = typed_lines(&form);
    let currency = Currency::parse("currency", &form.get("currency")).ok();
    let code = currency.map_or("eur", |c| c.code());
    let action = form.get("action");
    if action == "add_line" || action.starts_with("remove_") {
        if action == "add_line" && lines.len() < MAX_LINES {
            lines.push(blank_line());
        }
        if let Some(index) = action
            .strip_prefix("remove_")
            .and_then(|i| i.parse::<usize>().ok())
        {
            if lines.len() > 1 && index < lines.len() {
                lines.remove(index);
            }
        }
        return page(visitor, code, lines, Some(&form)).into_response();
    }
    let mut errors = FieldErrors::default();
    let Some(currency) = currency else {
        errors.add("currency", t.err_currency);
        let mut shown = page(visitor, code, lines, Some(&form));
        shown.errors = errors;
        return (StatusCode::UNPROCESSABLE_ENTITY, shown).into_response();
    };
    let decimals = currency.decimals();
    let mut items = Vec::new();
    for line in &mut lines {
        let quantity = parse_amount(&line.quantity, 0);
        let unit = parse_amount(&line.unit_amount, decimals);
        let rate = if line.tax_rate.is_empty() {
            Some(0)
        } else {
            parse_rate(&line.tax_rate)
        };
        if quantity.is_none() {
            line.errors.add("quantity", t.err_quantity);
        }
        if unit.is_none() {
            line.errors.add(
                "unit_amount",
                amount_message(t.err_unit_amount, code, visitor),
            );
        }
        if rate.is_none() {
            line.errors.add("tax_rate", t.err_vat_rate);
        }
        items.push(RequestedLine {
            description: line.description.clone(),
            quantity: quantity.unwrap_or(0),
            unit_amount: unit.unwrap_or(0),
            tax_rate_bps: rate,
        });
    }
    let due_days = form.get("due_days").parse::<i64>().ok();
    if due_days.is_none() {
        errors.add("due_days", t.err_due_days);
    }
    let mut message = String::new();
    if !errors.any() && lines.iter().all(|line| !line.errors.any()) {
        let request = NewInvoiceRequest {
            currency: currency.code().to_owned(),
            items,
            memo: Some(form.get("memo")),
            due_days,
            collection_method: None,
            finalize: form.checked("finalize"),
            idempotency_key: Some(sent_key(&form)),
        };
        match state
            .invoices
            .create(&signed_in.customer_id, request, None)
            .await
        {
            Ok(row) => {
                return redirect_with(
                    &format!("/invoices/{}", row.invoice_id),
                    Flash::InvoiceCreated,
                )
            }
            Err(AppError::Validation(invalid)) => place_error(
                &mut lines,
                &mut errors,
                &invalid.field,
                visitor,
                code,
                &mut message,
            ),
            Err(other) => message = error_text(t, &other),
        }
    }
    if message.is_empty() {
        message = t.error_form.to_owned();
    }
    let mut shown = page(visitor, code, lines, Some(&form));
    shown.errors = errors;
    shown.message = message;
    (StatusCode::UNPROCESSABLE_ENTITY, shown).into_response()
}

/// Puts the use case's message next to its field (`items[1].quantity`, `memo`, …).
fn place_error(
    lines: &mut [LineInput],
    errors: &mut FieldErrors,
    field: &str,
    visitor: &Visitor,
    currency: &str,
    message: &mut String,
) {
    let t = visitor.t;
    if let Some(rest) = field.strip_prefix("items[") {
        let (index, name) = rest.split_once("].").unwrap_or(("", ""));
        if let Some(line) = index.parse::<usize>().ok().and_then(|i| lines.get_mut(i)) {
            match name {
                "description" => line.errors.add("description", t.err_line_description),
                "quantity" => line.errors.add("quantity", t.err_quantity),
                "unit_amount" => line.errors.add(
                    "unit_amount",
                    amount_message(t.err_unit_amount, currency, visitor),
                ),
                _ => line.errors.add("tax_rate", t.err_vat_rate),
            }
            return;
        }
    }
    match field {
        "memo" => errors.add("memo", t.err_memo),
        "due_days" => errors.add("due_days", t.err_due_days),
        "items" => *message = t.err_lines.to_owned(),
        _ => *message = t.error_form.to_owned(),
    }
}
