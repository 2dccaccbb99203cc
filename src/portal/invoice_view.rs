//! An invoice as the pages show it (the customer's own page and the signed link's): lines,
//! totals, dates and status in the visitor's language, and what may be done with it.

use aggregates::invoice::{InvoiceLine, InvoiceStatus};
use projections::InvoiceRow;

use super::format::{date, money, quantity, rate};
use super::i18n::{fill, Catalog};
use super::page::Visitor;

/// One line.
pub struct LineView {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub rate: String,
    pub total: String,
}

/// An invoice.
pub struct InvoiceView {
    pub id: String,
    /// "Invoice BS-2026-000001", or "Draft invoice".
    pub title: String,
    pub status: String,
    pub status_label: &'static str,
    pub issued: String,
    pub due: String,
    pub paid: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub amount_due: String,
    pub memo: String,
    pub last_error: String,
    /// Open with something due: it can be paid.
    pub payable: bool,
    pub draft: bool,
    /// Finalized (a signed link may be shared).
    pub finalized: bool,
    pub hosted_url: String,
}

/// An invoice status in a word.
pub fn status_label(t: &Catalog, status: &str) -> &'static str {
    match InvoiceStatus::parse(status) {
        Some(InvoiceStatus::Draft) => t.inv_draft,
        Some(InvoiceStatus::Open) => t.inv_open,
        Some(InvoiceStatus::Paid) => t.inv_paid,
        Some(InvoiceStatus::Void) => t.inv_void,
        Some(InvoiceStatus::Uncollectible) => t.inv_uncollectible,
        None => t.inv_open,
    }
}

impl InvoiceView {
    /// `row` for `visitor`.
    pub fn of(row: &InvoiceRow, visitor: &Visitor) -> Self {
        let (t, lang) = (visitor.t, visitor.lang);
        let currency = row.currency.as_str();
        let status = InvoiceStatus::parse(&row.status);
        let lines: Vec<InvoiceLine> = serde_json::from_str(&row.lines).unwrap_or_else(|error| {
            tracing::error!(%error, invoice_id = %row.invoice_id, "unreadable invoice lines");
            Vec::new()
        });
        let number = row.number.clone().unwrap_or_default();
        let on = |text: &str, at: Option<&str>| {
            at.map(|at| fill(text, &[("date", &date(at, lang))]))
                .unwrap_or_default()
        };
        Self {
            id: row.invoice_id.clone(),
            title: if number.is_empty() {
                t.draft_title.to_owned()
            } else {
                fill(t.invoice_title, &[("number", &number)])
            },
            status: row.status.clone(),
            status_label: status_label(t, &row.status),
            issued: on(t.issued_on, row.finalized_at.as_deref()),
            due: on(t.due_on, row.due_date.as_deref()),
            paid: on(t.paid_on, row.paid_at.as_deref()),
            lines: lines
                .iter()
                .map(|line| {
                    let amounts = line.amounts();
                    LineView {
                        description: line.description.clone(),
                        quantity: quantity(line.quantity, lang),
                        unit_price: money(line.unit_amount, currency, lang),
                        rate: rate(line.tax_rate_bps, lang),
                        total: money(amounts.total, currency, lang),
                    }
                })
                .collect(),
            subtotal: money(row.subtotal, currency, lang),
            tax: money(row.tax, currency, lang),
            total: money(row.total, currency, lang),
            amount_due: money(row.amount_due(), currency, lang),
            memo: row.memo.clone().unwrap_or_default(),
            last_error: row
                .last_payment_error
                .as_deref()
                .filter(|_| status == Some(InvoiceStatus::Open))
                .map(|_| fill(t.last_payment_error, &[("reason", t.decline_generic)]))
                .unwrap_or_default(),
            payable: status == Some(InvoiceStatus::Open) && row.amount_due() > 0,
            draft: status == Some(InvoiceStatus::Draft),
            finalized: row.finalized_at.is_some()
                || status.is_some_and(|s| s != InvoiceStatus::Draft),
            hosted_url: row.hosted_invoice_url.clone().unwrap_or_default(),
        }
    }
}
