//! The events of one customer's aggregates — the customer, their payments, subscriptions,
//! invoices and the e-mails sent to them — in commit order. The payments and invoices views say which of those are the
//! customer's (an object never changes owner, so a row's `customer_id` holds for its whole
//! stream) and in which currency their amounts are; a subscription's first event names its
//! customer; the mail outbox names each message's customer. Each stream is then read through the log's primary key.

use sqlx::{FromRow, SqliteConnection};

use crate::event_log::StoredEvent;

/// One event of a customer's, with the currency of its aggregate (payments and invoices).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CustomerEvent {
    #[sqlx(flatten)]
    pub event: StoredEvent,
    pub currency: Option<String>,
}

/// Whether the log holds customer `customer_id` (deleted customers included: their story is
/// still told).
pub async fn customer_exists(
    conn: &mut SqliteConnection,
    customer_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events
                         WHERE aggregate_type = 'Customer' AND aggregate_id = ?)",
    )
    .bind(customer_id)
    .fetch_one(conn)
    .await
}

/// Up to `limit` events of customer `customer_id`'s aggregates after log position `after`,
/// in commit order.
pub async fn read(
    conn: &mut SqliteConnection,
    customer_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<CustomerEvent>, sqlx::Error> {
    sqlx::query_as(
        "WITH mine (aggregate_type, aggregate_id, currency) AS (
              SELECT 'Customer', ?1, NULL
              UNION ALL SELECT 'Payment', payment_id, currency FROM payments WHERE customer_id = ?1
              -- A subscription whose request failed has no row in its view: its first event
              -- names the customer. Read through the log's key, over subscriptions only.
              UNION ALL SELECT 'Subscription', aggregate_id, NULL FROM events
                         WHERE aggregate_type = 'Subscription' AND sequence = 1
                           AND ?1 = COALESCE(
                                 json_extract(payload, '$.SubscriptionRequested.customer_id'),
                                 json_extract(payload, '$.SubscriptionRecorded.customer_id'))
              UNION ALL SELECT 'Invoice', invoice_id, currency FROM invoices WHERE customer_id = ?1
              UNION ALL SELECT 'MailMessage', message_id, NULL FROM mail_outbox
                         WHERE customer_id = ?1
         )
         SELECT e.position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                e.event_version, e.payload, e.metadata, e.recorded_at, mine.currency
           FROM mine
           JOIN events e ON e.aggregate_type = mine.aggregate_type
                        AND e.aggregate_id = mine.aggregate_id
          WHERE e.position > ?2
          ORDER BY e.position
          LIMIT ?3",
    )
    .bind(customer_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}
