//! The bodies of `/api/invoices/*` (and of the operator's invoice creation): what is sent and
//! what is answered, with their OpenAPI schemas.

use aggregates::invoice::InvoiceLine;
use projections::InvoiceRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::usecases::invoices::{NewInvoiceRequest, RequestedLine};

/// One requested line.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Consulting", "quantity": 2, "unit_amount": 10000, "tax_rate_bps": 2000}))]
pub struct ItemBody {
    description: String,
    /// 1 to 10,000.
    quantity: i64,
    /// 1 to 99,999,999 minor units.
    unit_amount: i64,
    /// Tax in basis points, 0 to 10,000 (2000 = 20 %).
    #[serde(default)]
    tax_rate_bps: Option<i64>,
}

/// The body of an invoice creation (customer's or operator's): 1 to 100 lines; `due_days`
/// 0–365 (default 30); `collection_method` `send_invoice` (default) or `charge_automatically`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"currency": "eur", "items": [{"description": "Consulting", "quantity": 2, "unit_amount": 10000, "tax_rate_bps": 2000}], "memo": "Thank you", "due_days": 30, "finalize": true}))]
pub struct CreateBody {
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
    pub fn into_request(self, idempotency_key: Option<String>) -> NewInvoiceRequest {
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

/// One line with its amounts.
#[derive(Serialize, ToSchema)]
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
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"invoice_id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "stripe_invoice_id": "in_1Q2w3E4r5T6y", "stripe_subscription_id": null, "number": "BS-2026-000001", "status": "open", "currency": "eur", "lines": [{"description": "Consulting", "quantity": 2, "unit_amount": 10000, "tax_rate_bps": 2000, "subtotal": 20000, "tax": 4000, "total": 24000}], "subtotal": 20000, "tax": 4000, "total": 24000, "amount_paid": 0, "amount_credited": 0, "amount_due": 24000, "memo": "Thank you", "collection_method": "send_invoice", "due_date": "2026-12-23", "hosted_invoice_url": null, "pdf_url": "/api/invoices/9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/pdf", "document_sha256": "3f0c5e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b", "attempt_count": 0, "next_payment_attempt": null, "last_payment_error": null, "created_at": "2026-11-23T23:50:00.000Z", "finalized_at": "2026-11-23T23:50:00.000Z", "paid_at": null, "sent_at": null}))]
pub struct InvoiceBody {
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
    /// What credit notes credited (they reduce what is due, or were refunded).
    amount_credited: i64,
    amount_due: i64,
    memo: Option<String>,
    collection_method: String,
    due_date: Option<String>,
    hosted_invoice_url: Option<String>,
    /// The invoice's legal document, billstream's PDF/A-3 with Factur-X (in Stripe mode too:
    /// Stripe's own PDF is not the legal document). A draft has none yet (409).
    pdf_url: String,
    /// SHA-256 of the legal document, once issued (at finalization).
    document_sha256: Option<String>,
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
            pdf_url: format!("/api/invoices/{}/pdf", row.invoice_id),
            document_sha256: row.document_sha256.clone(),
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
            amount_credited: row.amount_credited,
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

/// The card to charge; absent (or an empty body) charges the default payment method.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_method": "pm_card_visa"}))]
pub struct PayBody {
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// A page of invoices, newest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only invoices in this status (`draft`, `open`, `paid`, `void`, `uncollectible`).
    pub status: Option<String>,
    /// 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of invoices.
#[derive(Serialize, ToSchema)]
pub struct InvoicePage {
    pub data: Vec<InvoiceBody>,
    pub next_cursor: Option<String>,
}

/// How many invoices are in each status.
#[derive(Serialize, ToSchema)]
pub struct CountByStatus {
    pub draft: i64,
    pub open: i64,
    pub paid: i64,
    pub void: i64,
    pub uncollectible: i64,
}

/// The caller's invoices in one currency (overdue: open past its due date).
#[derive(Serialize, ToSchema)]
pub struct CurrencyStats {
    pub currency: String,
    pub count_by_status: CountByStatus,
    pub total_invoiced: i64,
    pub total_paid: i64,
    pub total_outstanding: i64,
    pub total_overdue: i64,
}

/// The caller's invoice figures, per currency.
#[derive(Serialize, ToSchema)]
pub struct InvoiceStatsBody {
    pub data: Vec<CurrencyStats>,
}
