//! The views' rows read on SQLite's handle (`in_thread`), for the consumers that run in the
//! projector's batch (the mailer): each row type's columns in a fixed order and its decoding
//! by index, so a lookup costs no round trip to sqlx's thread and no column-name search.

use rusqlite::OptionalExtension;

use crate::customer_profiles::CustomerProfile;
use crate::invoices::InvoiceRow;
use crate::payments::PaymentRow;
use crate::subscriptions::SubscriptionRow;

/// A row type with a fixed column list, decoded by index.
pub trait DirectRow: Sized {
    /// The view it comes from.
    const TABLE: &'static str;
    /// Its columns in the order `decode` reads them.
    const COLUMNS: &'static str;
    /// A row of `SELECT {COLUMNS}`.
    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// The row of `R`'s view whose `key` column is `value`, if any.
pub fn find<R: DirectRow>(
    db: &rusqlite::Connection,
    key: &'static str,
    value: &str,
) -> rusqlite::Result<Option<R>> {
    db.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE {key} = ?1",
        R::COLUMNS,
        R::TABLE
    ))?
    .query_row([value], R::decode)
    .optional()
}

impl DirectRow for PaymentRow {
    const TABLE: &'static str = "payments";
    const COLUMNS: &'static str = PaymentRow::COLUMNS;
    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        PaymentRow::from_direct(row)
    }
}

impl DirectRow for CustomerProfile {
    const TABLE: &'static str = "customer_profiles";
    const COLUMNS: &'static str = crate::customer_profiles::PROFILE_COLUMNS;
    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            email: row.get(1)?,
            name: row.get(2)?,
            phone: row.get(3)?,
            stripe_customer_id: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
            credentials_version: row.get(7)?,
            deleted: row.get(8)?,
            mail_language: row.get(9)?,
            mail_receipts: row.get(10)?,
            billing: row.get(11)?,
        })
    }
}

impl DirectRow for SubscriptionRow {
    const TABLE: &'static str = "subscriptions";
    const COLUMNS: &'static str = "subscription_id, customer_id, stripe_subscription_id, plan, \
        price, amount, currency, interval, status, current_period_start, current_period_end, \
        trial_end, cancel_at_period_end, canceled_at, ended_at, created_at, updated_at";
    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            subscription_id: row.get(0)?,
            customer_id: row.get(1)?,
            stripe_subscription_id: row.get(2)?,
            plan: row.get(3)?,
            price: row.get(4)?,
            amount: row.get(5)?,
            currency: row.get(6)?,
            interval: row.get(7)?,
            status: row.get(8)?,
            current_period_start: row.get(9)?,
            current_period_end: row.get(10)?,
            trial_end: row.get(11)?,
            cancel_at_period_end: row.get(12)?,
            canceled_at: row.get(13)?,
            ended_at: row.get(14)?,
            created_at: row.get(15)?,
            updated_at: row.get(16)?,
        })
    }
}

impl DirectRow for InvoiceRow {
    const TABLE: &'static str = "invoices";
    const COLUMNS: &'static str = "invoice_id, customer_id, stripe_invoice_id, \
        stripe_subscription_id, number, status, currency, lines, subtotal, tax, total, \
        amount_paid, memo, collection_method, due_days, due_date, hosted_invoice_url, pdf_url, \
        attempt_count, next_payment_attempt, last_payment_error, created_position, created_at, \
        finalized_at, paid_at, sent_at, updated_at, document_sha256, amount_credited";
    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            invoice_id: row.get(0)?,
            customer_id: row.get(1)?,
            stripe_invoice_id: row.get(2)?,
            stripe_subscription_id: row.get(3)?,
            number: row.get(4)?,
            status: row.get(5)?,
            currency: row.get(6)?,
            lines: row.get(7)?,
            subtotal: row.get(8)?,
            tax: row.get(9)?,
            total: row.get(10)?,
            amount_paid: row.get(11)?,
            memo: row.get(12)?,
            collection_method: row.get(13)?,
            due_days: row.get(14)?,
            due_date: row.get(15)?,
            hosted_invoice_url: row.get(16)?,
            pdf_url: row.get(17)?,
            attempt_count: row.get(18)?,
            next_payment_attempt: row.get(19)?,
            last_payment_error: row.get(20)?,
            created_position: row.get(21)?,
            created_at: row.get(22)?,
            finalized_at: row.get(23)?,
            paid_at: row.get(24)?,
            sent_at: row.get(25)?,
            updated_at: row.get(26)?,
            document_sha256: row.get(27)?,
            amount_credited: row.get(28)?,
        })
    }
}
