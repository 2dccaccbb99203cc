//! What falls due on the sandbox's clock: the end of a trial or period (a renewal billed, a
//! cancellation at period end carried out, an unpaid first invoice expiring) and the automatic
//! retries of unpaid invoices, earliest first; and the invoice of one subscription period.

use serde_json::{json, Value};

use super::collection::attempt_payment;
use super::invoices::{self, finalize, invoice_object, line, void_invoice, InvoiceDraft};
use super::outbox;
use super::prices::{add_interval, price_of};
use super::store::SandboxConn;
use super::subscriptions::{self, end_subscription, settle_subscription, StoredSubscription};
use crate::provider::ProviderError;

/// Invoices one period of a subscription (plus pending prorations) and tries to collect it.
/// Returns whether it was paid.
pub async fn bill_period(
    conn: &mut SandboxConn,
    stored: &mut StoredSubscription,
    reason: &str,
    extra_lines: Vec<Value>,
    now: i64,
) -> Result<bool, ProviderError> {
    let subscription = &stored.object;
    let price = price_of(subscription);
    let period = (
        subscription["current_period_start"].as_i64().unwrap_or(now),
        subscription["current_period_end"].as_i64().unwrap_or(now),
    );
    let mut lines = vec![line(
        &format!(
            "1 × {} (at {} / {})",
            price["nickname"].as_str().unwrap_or("Subscription"),
            price["unit_amount"].as_i64().unwrap_or(0),
            price["recurring"]["interval"].as_str().unwrap_or("month"),
        ),
        price["unit_amount"].as_i64().unwrap_or(0),
        0,
        period,
        false,
    )];
    lines.extend(extra_lines);
    lines.append(&mut stored.pending);
    let customer = subscription["customer"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let subscription_id = subscription["id"].as_str().unwrap_or_default().to_owned();
    let currency = price["currency"].as_str().unwrap_or("eur").to_owned();
    let mut invoice = invoice_object(
        InvoiceDraft {
            customer: &customer,
            subscription: Some(&subscription_id),
            currency: &currency,
            lines,
            collection_method: "charge_automatically",
            days_until_due: None,
            memo: None,
            billing_reason: reason,
            metadata: json!({}),
        },
        now,
    );
    invoices::save(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.created", &invoice, None).await?;
    finalize(conn, &mut invoice, now).await?;
    stored.object["latest_invoice"] = invoice["id"].clone();
    let retries = reason != "subscription_create";
    attempt_payment(conn, &mut invoice, None, retries, now).await
}

/// The subscription whose next step (trial end, renewal, expiry) falls due first.
const SUBSCRIPTION_DUE: &str = "SELECT id, next_event_at FROM sandbox_subscriptions
  WHERE next_event_at IS NOT NULL AND next_event_at <= $1
  ORDER BY next_event_at, id LIMIT 1";

/// The invoice whose next automatic collection attempt falls due first.
const RETRY_DUE: &str = "SELECT id, next_attempt_at FROM sandbox_invoices
  WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1
  ORDER BY next_attempt_at, id LIMIT 1";

/// The id and due time `sql` selects as due at `now`, if any.
async fn earliest_due(
    conn: &mut SandboxConn,
    sql: &'static str,
    now: i64,
) -> Result<Option<(String, i64)>, ProviderError> {
    Ok(conn.optional(sql, &[now.into()]).await?)
}

/// Runs the earliest step due at `now`, if any; returns whether one ran.
pub async fn run_next_due(conn: &mut SandboxConn, now: i64) -> Result<bool, ProviderError> {
    let subscription = earliest_due(conn, SUBSCRIPTION_DUE, now).await?;
    let invoice = earliest_due(conn, RETRY_DUE, now).await?;
    // A subscription's step goes first when both fall due at the same time.
    let retry_at = invoice.as_ref().map(|(_, at)| *at);
    let period = subscription.filter(|(_, at)| retry_at.is_none_or(|retry_at| *at <= retry_at));
    if let Some((id, at)) = period {
        let stored = subscriptions::load(conn, &id).await?;
        subscription_falls_due(conn, stored, at).await?;
    } else if let Some((id, at)) = invoice {
        retry_falls_due(conn, &id, at).await?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// The end of a trial or period (or of the window to pay a first invoice).
async fn subscription_falls_due(
    conn: &mut SandboxConn,
    mut stored: StoredSubscription,
    at: i64,
) -> Result<(), ProviderError> {
    if stored.is_ended() {
        stored.next_event_at = None;
        return subscriptions::save(conn, &stored).await;
    }
    if stored.status() == "incomplete" {
        stored.object["status"] = json!("incomplete_expired");
        stored.object["ended_at"] = json!(at);
        stored.next_event_at = None;
        if let Some(invoice_id) = stored.object["latest_invoice"].as_str().map(str::to_owned) {
            if invoices::load(conn, &invoice_id).await?["status"] == "open" {
                void_invoice(conn, &invoice_id, at).await?;
            }
        }
        return stored.save_updated(conn).await;
    }
    if stored.object["cancel_at_period_end"] == true {
        return end_subscription(conn, stored, at).await;
    }
    let interval = price_of(&stored.object)["recurring"]["interval"]
        .as_str()
        .unwrap_or("month")
        .to_owned();
    let end = add_interval(at, &interval);
    stored.object["current_period_start"] = json!(at);
    stored.object["current_period_end"] = json!(end);
    let paid = bill_period(conn, &mut stored, "subscription_cycle", vec![], at).await?;
    stored.object["status"] = json!(if paid { "active" } else { "past_due" });
    stored.next_event_at = Some(end);
    stored.save_updated(conn).await
}

/// An automatic retry of an unpaid subscription invoice.
async fn retry_falls_due(conn: &mut SandboxConn, id: &str, at: i64) -> Result<(), ProviderError> {
    let mut invoice = invoices::load(conn, id).await?;
    if invoice["status"] != "open" {
        invoice["next_payment_attempt"] = Value::Null;
        return invoices::save(conn, &invoice).await;
    }
    let paid = attempt_payment(conn, &mut invoice, None, true, at).await?;
    if let Some(subscription) = invoice["subscription"].as_str().map(str::to_owned) {
        let exhausted = !paid && invoice["next_payment_attempt"].is_null();
        settle_subscription(conn, &subscription, paid, exhausted, at).await?;
    }
    Ok(())
}
