//! Read model: one row per payment, for the payment API and the customer's history.

use aggregates::payment::{Payment, PaymentEvent};
use cqrs_es::Aggregate;
use sqlx::{FromRow, SqliteExecutor};

use crate::customer_profiles::format_timestamp;
use crate::event_log::StoredEvent;
use crate::payment_listed::PaymentListed;
use crate::readers::Readers;
use crate::statement::{collect, Statement};
use crate::{Projection, ProjectionError};

/// A payment as the view stores it: what the portal's pages and the commands' checks read (the
/// API's history page is written from [`crate::PaymentListed`]).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PaymentRow {
    pub payment_id: String,
    pub customer_id: String,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub description: Option<String>,
    /// JSON object text.
    pub metadata: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// JSON text of the provider's next action, while one is required.
    pub next_action: Option<String>,
    pub amount_received: i64,
    pub refunded_amount: i64,
    pub confirm_attempts: i64,
    pub refund_count: i64,
    pub created_position: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl PaymentRow {
    /// Its columns in the order `from_direct` reads them.
    pub(crate) const COLUMNS: &'static str =
        "payment_id, customer_id, payment_intent_id, client_secret, \
        amount, currency, status, description, metadata, failure_code, failure_message, \
        next_action, amount_received, refunded_amount, confirm_attempts, refund_count, \
        created_position, created_at, updated_at";

    /// A row of `SELECT {COLUMNS}` read on SQLite's handle directly (`in_thread::read`), by
    /// index: a lookup by name compares every column's name for every value.
    pub(crate) fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            payment_id: row.get(0)?,
            customer_id: row.get(1)?,
            payment_intent_id: row.get(2)?,
            client_secret: row.get(3)?,
            amount: row.get(4)?,
            currency: row.get(5)?,
            status: row.get(6)?,
            description: row.get(7)?,
            metadata: row.get(8)?,
            failure_code: row.get(9)?,
            failure_message: row.get(10)?,
            next_action: row.get(11)?,
            amount_received: row.get(12)?,
            refunded_amount: row.get(13)?,
            confirm_attempts: row.get(14)?,
            refund_count: row.get(15)?,
            created_position: row.get(16)?,
            created_at: row.get(17)?,
            updated_at: row.get(18)?,
        })
    }
}

/// Which payments a page of history holds: the customer's, by status and cursor, newest first.
const HISTORY_FILTER: &str = "FROM payments
  WHERE customer_id = ?1
    AND (?2 IS NULL OR status = ?2)
    AND (?3 IS NULL OR created_position < ?3)
  ORDER BY created_position DESC
  LIMIT ?4";

/// A page of a customer's history query.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery<'a> {
    pub status: Option<&'a str>,
    /// Only payments created before this log position (the cursor).
    pub before_position: Option<i64>,
    pub limit: i64,
}

impl HistoryQuery<'_> {
    /// The parameters of [`HISTORY_FILTER`] for `customer_id`'s page.
    fn params<'q>(&'q self, customer_id: &'q str) -> impl rusqlite::Params + 'q {
        (customer_id, self.status, self.before_position, self.limit)
    }
}

/// The payments projection and its queries.
pub struct Payments;

impl Payments {
    /// One payment by id.
    pub async fn find(
        db: impl SqliteExecutor<'_>,
        payment_id: &str,
    ) -> Result<Option<PaymentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payments WHERE payment_id = ?")
            .bind(payment_id)
            .fetch_optional(db)
            .await
    }

    /// One payment by its PaymentIntent id.
    pub async fn find_by_intent(
        db: impl SqliteExecutor<'_>,
        payment_intent_id: &str,
    ) -> Result<Option<PaymentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payments WHERE payment_intent_id = ?")
            .bind(payment_intent_id)
            .fetch_optional(db)
            .await
    }

    /// A customer's payments, newest first, as owned rows (the portal's dashboard). It runs
    /// from this thread on a reader's connection (`Readers`), its statement prepared once.
    pub async fn history(
        readers: &Readers,
        customer_id: &str,
        query: &HistoryQuery<'_>,
    ) -> Result<Vec<PaymentRow>, ProjectionError> {
        readers
            .read(|db| {
                let sql = format!("SELECT {} {HISTORY_FILTER}", PaymentRow::COLUMNS);
                let mut statement = db.prepare_cached(&sql)?;
                let rows =
                    statement.query_map(query.params(customer_id), PaymentRow::from_direct)?;
                rows.collect()
            })
            .await
    }

    /// The same page handed to `visit` row by row, each borrowed from SQLite's row: the busiest
    /// read of the API, which writes each row's JSON as it comes (no owned copy of a column).
    pub async fn history_each(
        readers: &Readers,
        customer_id: &str,
        query: &HistoryQuery<'_>,
        mut visit: impl FnMut(PaymentListed<'_>),
    ) -> Result<(), ProjectionError> {
        readers
            .read(|db| {
                let sql = format!("SELECT {} {HISTORY_FILTER}", PaymentListed::COLUMNS);
                let mut statement = db.prepare_cached(&sql)?;
                let mut rows = statement.query(query.params(customer_id))?;
                while let Some(row) = rows.next()? {
                    visit(PaymentListed::from_direct(row)?);
                }
                Ok(())
            })
            .await
    }

    /// Every payment ordered by id (used to compare a replay with the live tables).
    pub async fn all(db: impl SqliteExecutor<'_>) -> Result<Vec<PaymentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payments ORDER BY payment_id")
            .fetch_all(db)
            .await
    }
}

impl Projection for Payments {
    fn name(&self) -> &'static str {
        "payments"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["payments"]
    }

    fn statements(&self, event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        collect(|out| write(out, event))
    }
}

/// Appends to `out` the statements that apply `event` to the view (none for events of no
/// interest).
fn write(out: &mut Vec<Statement>, event: &StoredEvent) -> Result<(), ProjectionError> {
    if event.aggregate_type != Payment::TYPE {
        return Ok(());
    }
    let id = event.aggregate_id.as_str();
    match event.decode::<PaymentEvent>()? {
        PaymentEvent::PaymentCreated {
            customer_id,
            payment_intent_id,
            client_secret,
            amount,
            currency,
            description,
            metadata,
            created_at,
        } => {
            let at = format_timestamp(&created_at);
            out.push(Statement::new(
                "INSERT INTO payments
                   (payment_id, customer_id, payment_intent_id, client_secret, amount, currency,
                    status, description, metadata, created_position, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'requires_payment_method', ?7, ?8, ?9, ?10, ?10)",
            )
            .bind(id)
            .bind(customer_id)
            .bind(payment_intent_id)
            .bind(client_secret)
            .bind(amount)
            .bind(currency)
            .bind(description)
            .bind(serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()))
            .bind(event.position)
            .bind(at));
        }
        PaymentEvent::PaymentSucceeded {
            attempt,
            amount_received,
            at,
        } => {
            out.push(Statement::new(
                "UPDATE payments SET status = 'succeeded', amount_received = ?2,
                    failure_code = NULL, failure_message = NULL, next_action = NULL,
                    confirm_attempts = MAX(confirm_attempts, COALESCE(?3, 0)), updated_at = ?4
                  WHERE payment_id = ?1",
            )
            .bind(id)
            .bind(amount_received)
            .bind(attempt)
            .bind(format_timestamp(&at)));
        }
        PaymentEvent::PaymentFailed {
            attempt,
            failure_code,
            decline_code,
            failure_message,
            at,
        } => {
            out.push(Statement::new(
                "UPDATE payments SET status = 'failed', failure_code = ?2, failure_message = ?3,
                    next_action = NULL, confirm_attempts = MAX(confirm_attempts, COALESCE(?4, 0)),
                    updated_at = ?5
                  WHERE payment_id = ?1",
            )
            .bind(id)
            // The issuer's reason is the more useful code when there is one.
            .bind(decline_code.unwrap_or(failure_code))
            .bind(failure_message)
            .bind(attempt)
            .bind(format_timestamp(&at)));
        }
        PaymentEvent::PaymentRequiresAction {
            attempt,
            next_action,
            at,
        } => {
            set_status(
                out,
                id,
                "requires_action",
                attempt,
                Some(next_action.to_string()),
                &at,
            );
        }
        PaymentEvent::PaymentProcessing { attempt, at } => {
            set_status(out, id, "processing", attempt, None, &at);
        }
        PaymentEvent::PaymentCanceled { attempt, at } => {
            set_status(out, id, "canceled", attempt, None, &at);
        }
        PaymentEvent::PaymentRefunded { amount, at, .. }
        | PaymentEvent::RefundReconciled { amount, at, .. } => {
            out.push(Statement::new(
                "UPDATE payments SET refunded_amount = refunded_amount + ?2,
                    refund_count = refund_count + 1,
                    status = CASE WHEN refunded_amount + ?2 >= amount_received
                                  THEN 'refunded' ELSE 'partially_refunded' END,
                    updated_at = ?3
                  WHERE payment_id = ?1",
            )
            .bind(id)
            .bind(amount)
            .bind(format_timestamp(&at)));
        }
        // Bookkeeping of Stripe events: their effects arrive as the events that follow.
        PaymentEvent::RefundAttributed { .. }
        // A request and its verdict; the refunded money is counted by `PaymentRefunded`.
        | PaymentEvent::RefundRequested { .. }
        | PaymentEvent::RefundSucceeded { .. }
        | PaymentEvent::RefundFailed { .. }
        | PaymentEvent::StripeEventApplied { .. }
        | PaymentEvent::StaleStripeEventIgnored { .. } => {}
    }
    Ok(())
}

fn set_status(
    out: &mut Vec<Statement>,
    id: &str,
    status: &str,
    attempt: Option<u32>,
    next_action: Option<String>,
    at: &chrono::DateTime<chrono::Utc>,
) {
    out.push(Statement::new(
        "UPDATE payments SET status = ?2, next_action = ?3, failure_code = NULL, failure_message = NULL,
            confirm_attempts = MAX(confirm_attempts, COALESCE(?4, 0)), updated_at = ?5
          WHERE payment_id = ?1",
    )
    .bind(id)
    .bind(status)
    .bind(next_action)
    .bind(attempt)
    .bind(format_timestamp(at)));
}
