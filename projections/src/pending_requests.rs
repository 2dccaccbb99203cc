//! Read model: billstream's requests still awaiting the provider's answer — refunds (reserved
//! on the payment) and new subscriptions (claiming their plan). A request that stays here long
//! after it was made lost its answer (a crash between the two facts); the service completes it
//! by asking the provider again with the same idempotency key.

use aggregates::payment::{Payment, PaymentEvent};
use aggregates::subscription::{Subscription, SubscriptionEvent};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::{FromRow, SqliteExecutor};

use crate::customer_profiles::format_timestamp;
use crate::event_log::StoredEvent;
use crate::statement::{collect, Statement};
use crate::{Projection, ProjectionError};

/// What kind of request awaits an answer.
pub const REFUND: &str = "refund";
/// A new subscription.
pub const SUBSCRIPTION: &str = "subscription";

/// A request awaiting the provider.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PendingRequest {
    /// The refund id, or the subscription id.
    pub request_id: String,
    /// [`REFUND`] or [`SUBSCRIPTION`].
    pub kind: String,
    /// The payment, or the subscription.
    pub aggregate_id: String,
    pub requested_at: String,
}

/// The pending-requests projection and its query.
pub struct PendingRequests;

impl PendingRequests {
    /// Requests made before `before`, oldest first.
    pub async fn older_than(
        db: impl SqliteExecutor<'_>,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PendingRequest>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM pending_requests WHERE requested_at < ? ORDER BY requested_at LIMIT ?",
        )
        .bind(format_timestamp(&before))
        .bind(limit)
        .fetch_all(db)
        .await
    }
}

fn open(
    out: &mut Vec<Statement>,
    request_id: &str,
    kind: &str,
    aggregate_id: &str,
    at: &DateTime<Utc>,
) {
    out.push(
        Statement::new(
            "INSERT OR IGNORE INTO pending_requests (request_id, kind, aggregate_id, requested_at)
         VALUES (?, ?, ?, ?)",
        )
        .bind(request_id)
        .bind(kind)
        .bind(aggregate_id)
        .bind(format_timestamp(at)),
    );
}

fn close(out: &mut Vec<Statement>, request_id: &str) {
    out.push(Statement::new("DELETE FROM pending_requests WHERE request_id = ?").bind(request_id));
}

impl Projection for PendingRequests {
    fn name(&self) -> &'static str {
        "pending_requests"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["pending_requests"]
    }

    fn statements(&self, event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        collect(|out| write(out, event))
    }
}

/// Appends to `out` the statements that apply `event` to the view (none for events of no
/// interest).
fn write(out: &mut Vec<Statement>, event: &StoredEvent) -> Result<(), ProjectionError> {
    let id = event.aggregate_id.as_str();
    if event.aggregate_type == Payment::TYPE {
        match event.event_type.as_str() {
            "RefundRequested" | "RefundSucceeded" | "RefundFailed" => {}
            _ => return Ok(()),
        }
        match event.decode::<PaymentEvent>()? {
            PaymentEvent::RefundRequested { refund_id, at, .. } => {
                open(out, &refund_id, REFUND, id, &at);
            }
            PaymentEvent::RefundSucceeded { refund_id, .. }
            | PaymentEvent::RefundFailed { refund_id, .. } => close(out, &refund_id),
            _ => {}
        }
    } else if event.aggregate_type == Subscription::TYPE {
        match event.event_type.as_str() {
            "SubscriptionRequested" | "SubscriptionRecorded" | "SubscriptionRequestFailed" => {}
            _ => return Ok(()),
        }
        match event.decode::<SubscriptionEvent>()? {
            SubscriptionEvent::SubscriptionRequested { at, .. } => {
                open(out, id, SUBSCRIPTION, id, &at);
            }
            SubscriptionEvent::SubscriptionRecorded { .. }
            | SubscriptionEvent::SubscriptionRequestFailed { .. } => close(out, id),
            _ => {}
        }
    }
    Ok(())
}
