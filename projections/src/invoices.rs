//! Read model: one row per invoice, its customer's list, and the per-currency statistics.

use aggregates::invoice::{Invoice, InvoiceEvent};
use cqrs_es::Aggregate;
use sqlx::{FromRow, SqliteExecutor};

use crate::credit_notes::{CreditNotes, IssuedNote};
use crate::customer_profiles::format_timestamp;
use crate::event_log::StoredEvent;
use crate::statement::{collect, Statement};
use crate::{Projection, ProjectionError};

/// An invoice as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InvoiceRow {
    pub invoice_id: String,
    pub customer_id: String,
    pub stripe_invoice_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub number: Option<String>,
    pub status: String,
    pub currency: String,
    /// JSON array of `{description, quantity, unit_amount, tax_rate_bps}`.
    pub lines: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub memo: Option<String>,
    pub collection_method: String,
    pub due_days: i64,
    pub due_date: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub pdf_url: Option<String>,
    pub attempt_count: i64,
    pub next_payment_attempt: Option<String>,
    pub last_payment_error: Option<String>,
    pub created_position: i64,
    pub created_at: String,
    pub finalized_at: Option<String>,
    pub paid_at: Option<String>,
    pub sent_at: Option<String>,
    pub updated_at: String,
    /// SHA-256 of the legal document (PDF/A-3 with Factur-X), once issued.
    pub document_sha256: Option<String>,
    /// What credit notes credited (total, minor units).
    pub amount_credited: i64,
}

/// A customer's invoice statistics in one currency.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InvoiceStats {
    pub currency: String,
    pub draft: i64,
    pub open: i64,
    pub paid: i64,
    pub void: i64,
    pub uncollectible: i64,
    /// Everything finalized (open, paid, uncollectible).
    pub total_invoiced: i64,
    pub total_paid: i64,
    /// Open and uncollectible amounts still due.
    pub total_outstanding: i64,
    /// Outstanding amounts past their due date.
    pub total_overdue: i64,
}

impl InvoiceRow {
    /// What remains to pay, as the Invoice aggregate's rule says for this status.
    pub fn amount_due(&self) -> i64 {
        match aggregates::invoice::InvoiceStatus::parse(&self.status) {
            Some(status) => status.amount_due(self.total, self.amount_paid, self.amount_credited),
            None => (self.total - self.amount_paid - self.amount_credited).max(0),
        }
    }
}

/// The invoices projection and its queries.
pub struct Invoices;

impl Invoices {
    /// One invoice.
    pub async fn find(
        db: impl SqliteExecutor<'_>,
        invoice_id: &str,
    ) -> Result<Option<InvoiceRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM invoices WHERE invoice_id = ?")
            .bind(invoice_id)
            .fetch_optional(db)
            .await
    }

    /// A customer's invoices, newest first, optionally in one status and before a cursor.
    /// The invoice billstream keeps for a provider invoice id.
    pub async fn find_by_stripe_id(
        db: impl SqliteExecutor<'_>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM invoices WHERE stripe_invoice_id = ?")
            .bind(stripe_invoice_id)
            .fetch_optional(db)
            .await
    }

    pub async fn list(
        db: impl SqliteExecutor<'_>,
        customer_id: &str,
        status: Option<&str>,
        before_position: Option<i64>,
        limit: i64,
    ) -> Result<Vec<InvoiceRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM invoices
              WHERE customer_id = ?1 AND (?2 IS NULL OR status = ?2)
                AND (?3 IS NULL OR created_position < ?3)
              ORDER BY created_position DESC LIMIT ?4",
        )
        .bind(customer_id)
        .bind(status)
        .bind(before_position)
        .bind(limit)
        .fetch_all(db)
        .await
    }

    /// Per-currency statistics of a customer's invoices; `today` (YYYY-MM-DD) decides overdue.
    pub async fn stats(
        db: impl SqliteExecutor<'_>,
        customer_id: &str,
        today: &str,
    ) -> Result<Vec<InvoiceStats>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency,
                    SUM(status = 'draft') AS draft,
                    SUM(status = 'open') AS open,
                    SUM(status = 'paid') AS paid,
                    SUM(status = 'void') AS void,
                    SUM(status = 'uncollectible') AS uncollectible,
                    SUM(CASE WHEN status IN ('open', 'paid', 'uncollectible') THEN total ELSE 0 END) AS total_invoiced,
                    SUM(amount_paid) AS total_paid,
                    SUM(CASE WHEN status IN ('open', 'uncollectible') THEN total - amount_paid - amount_credited ELSE 0 END) AS total_outstanding,
                    SUM(CASE WHEN status IN ('open', 'uncollectible') AND due_date < ?2
                             THEN total - amount_paid - amount_credited ELSE 0 END) AS total_overdue
               FROM invoices WHERE customer_id = ?1
              GROUP BY currency ORDER BY currency",
        )
        .bind(customer_id)
        .bind(today)
        .fetch_all(db)
        .await
    }

    /// Every invoice ordered by id (used to compare a replay with the live tables).
    pub async fn all(db: impl SqliteExecutor<'_>) -> Result<Vec<InvoiceRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM invoices ORDER BY invoice_id")
            .fetch_all(db)
            .await
    }
}

fn set(out: &mut Vec<Statement>, id: &str, assignments: &str, at: &str) {
    out.push(
        Statement::new(format!(
            "UPDATE invoices SET {assignments}, updated_at = ?2 WHERE invoice_id = ?1"
        ))
        .bind(id)
        .bind(at),
    );
}

impl Projection for Invoices {
    fn name(&self) -> &'static str {
        "invoices"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["invoices", "invoice_credit_notes"]
    }

    fn statements(&self, event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        collect(|out| write(out, event))
    }
}

/// Appends to `out` the statements that apply `event` to the view (none for events of no
/// interest).
fn write(out: &mut Vec<Statement>, event: &StoredEvent) -> Result<(), ProjectionError> {
    if event.aggregate_type != Invoice::TYPE {
        return Ok(());
    }
    let id = event.aggregate_id.as_str();
    match event.decode::<InvoiceEvent>()? {
        InvoiceEvent::InvoiceCreated {
            customer_id,
            currency,
            lines,
            totals,
            memo,
            due_days,
            collection_method,
            created_at,
            stripe_invoice_id,
            stripe_subscription_id,
        } => {
            let at = format_timestamp(&created_at);
            let method = serde_json::to_value(collection_method)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push(Statement::new(
                "INSERT INTO invoices (invoice_id, customer_id, status, currency, lines, subtotal,
                    tax, total, memo, collection_method, due_days, created_position, created_at,
                    updated_at, stripe_invoice_id, stripe_subscription_id)
                 VALUES (?1, ?2, 'draft', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)",
            )
            .bind(id)
            .bind(customer_id)
            .bind(currency)
            .bind(serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into()))
            .bind(totals.subtotal)
            .bind(totals.tax)
            .bind(totals.total)
            .bind(memo)
            .bind(method)
            .bind(i64::from(due_days))
            .bind(event.position)
            .bind(at)
            .bind(stripe_invoice_id)
            .bind(stripe_subscription_id));
        }
        InvoiceEvent::InvoiceFinalized {
            number,
            due_date,
            at,
            hosted_invoice_url,
            pdf_url,
            ..
        } => {
            let at = format_timestamp(&at);
            out.push(
                Statement::new(
                    "UPDATE invoices SET status = 'open', number = ?2, due_date = ?3,
                    finalized_at = ?4, updated_at = ?4, hosted_invoice_url = ?5, pdf_url = ?6
                  WHERE invoice_id = ?1",
                )
                .bind(id)
                .bind(number)
                .bind(due_date.to_string())
                .bind(at)
                .bind(hosted_invoice_url)
                .bind(pdf_url),
            );
        }
        InvoiceEvent::InvoicePaid { amount, at, .. } => {
            let at = format_timestamp(&at);
            out.push(
                Statement::new(
                    "UPDATE invoices SET status = 'paid', amount_paid = ?2, paid_at = ?3,
                    next_payment_attempt = NULL, updated_at = ?3 WHERE invoice_id = ?1",
                )
                .bind(id)
                .bind(amount)
                .bind(at),
            );
        }
        InvoiceEvent::InvoiceVoided { at } => {
            set(
                out,
                id,
                "status = 'void', next_payment_attempt = NULL",
                &format_timestamp(&at),
            );
        }
        InvoiceEvent::InvoiceMarkedUncollectible { at } => {
            set(out, id, "status = 'uncollectible'", &format_timestamp(&at));
        }
        InvoiceEvent::InvoiceSent { at } => {
            set(out, id, "sent_at = ?2", &format_timestamp(&at));
        }
        InvoiceEvent::InvoiceDocumentIssued { sha256, .. } => {
            out.push(
                Statement::new("UPDATE invoices SET document_sha256 = ?2 WHERE invoice_id = ?1")
                    .bind(id)
                    .bind(sha256),
            );
        }
        InvoiceEvent::CreditNoteIssued {
            credit_note_id,
            number,
            lines,
            totals,
            reason,
            outcome,
            at,
            ..
        } => {
            let note = IssuedNote {
                credit_note_id: &credit_note_id,
                number: &number,
                lines: &lines,
                totals,
                reason: &reason,
                outcome,
                at: &at,
            };
            CreditNotes::insert(out, id, event.position, note);
        }
        InvoiceEvent::CreditNoteDocumentIssued {
            credit_note_id,
            sha256,
            ..
        } => CreditNotes::document_issued(out, &credit_note_id, &sha256),
        InvoiceEvent::InvoicePaymentFailed { failure, at } => {
            let at = format_timestamp(&at);
            let next = failure
                .next_payment_attempt
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|t| format_timestamp(&t));
            out.push(
                Statement::new(
                    "UPDATE invoices SET attempt_count = ?2, next_payment_attempt = ?3,
                    last_payment_error = ?4, updated_at = ?5 WHERE invoice_id = ?1",
                )
                .bind(id)
                .bind(i64::from(failure.attempt_count))
                .bind(next)
                .bind(failure.message)
                .bind(at),
            );
        }
    }
    Ok(())
}
