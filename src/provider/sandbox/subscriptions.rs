//! The sandbox's subscriptions: created on a price (with a trial, or billed at once), canceled
//! now or at period end, resumed, moved to another price with Stripe's prorations, and kept in
//! line with the outcome of their invoices. Each is a Stripe-shaped document in
//! `sandbox_subscriptions`, with the proration lines waiting for its next invoice and the time
//! its next step falls due (see `cycle`).

use serde_json::{json, Value};

use super::cycle::bill_period;
use super::idempotency::{Answer, Change};
use super::ids::{stripe_like_id, DAY};
use super::invoices::{self, line};
use super::prices::{add_interval, price_object, price_of, prorate, set_price};
use super::store::SandboxConn;
use super::{corrupt, customers, outbox};
use crate::provider::stripe::metadata;
use crate::provider::{NewSubscription, PlanPrice, ProviderError};

/// How long a subscription whose first payment failed stays `incomplete`.
const INCOMPLETE_EXPIRES_AFTER: i64 = 23 * 3600;

/// A change to an existing subscription.
pub enum SubscriptionChange {
    Cancel { at_period_end: bool },
    Resume,
    ChangePrice(PlanPrice),
}

impl Change for SubscriptionChange {
    fn request(&self, id: &str) -> Value {
        match self {
            Self::Cancel { at_period_end } => {
                json!({"op": "cancel_subscription", "id": id, "at_period_end": at_period_end})
            }
            Self::Resume => json!({"op": "resume_subscription", "id": id}),
            Self::ChangePrice(price) => {
                json!({"op": "change_subscription_price", "id": id, "price": price.price_id})
            }
        }
    }

    fn run(self, conn: &mut SandboxConn, id: String, now: i64) -> Answer<'_> {
        Box::pin(async move {
            match self {
                Self::Cancel { at_period_end } => {
                    cancel_subscription(conn, &id, at_period_end, now).await
                }
                Self::Resume => resume_subscription(conn, &id).await,
                Self::ChangePrice(price) => change_price(conn, &id, &price, now).await,
            }
        })
    }
}

/// A stored subscription: the document, the proration lines for its next invoice, and when its
/// next step (trial end, renewal, expiry) falls due.
pub struct StoredSubscription {
    pub object: Value,
    pub pending: Vec<Value>,
    pub next_event_at: Option<i64>,
}

impl StoredSubscription {
    /// Its status, in Stripe's spelling.
    pub fn status(&self) -> String {
        self.object["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether it is over (canceled, or expired before its first payment).
    pub fn is_ended(&self) -> bool {
        matches!(self.status().as_str(), "canceled" | "incomplete_expired")
    }

    /// Saves it and announces the change (`customer.subscription.updated`).
    pub async fn save_updated(&self, conn: &mut SandboxConn) -> Result<(), ProviderError> {
        save(conn, self).await?;
        outbox::enqueue(conn, "customer.subscription.updated", &self.object, None).await
    }
}

/// The stored subscription.
pub async fn load(conn: &mut SandboxConn, id: &str) -> Result<StoredSubscription, ProviderError> {
    let row: Option<(String, String, Option<i64>)> = conn
        .optional(
            "SELECT object, pending_items, next_event_at FROM sandbox_subscriptions WHERE id = $1",
            &[id.into()],
        )
        .await?;
    let (object, pending, next_event_at) = row.ok_or(ProviderError::NoSuchSubscription)?;
    Ok(StoredSubscription {
        object: serde_json::from_str(&object).map_err(|_| corrupt("subscription"))?,
        pending: serde_json::from_str(&pending).map_err(|_| corrupt("subscription"))?,
        next_event_at,
    })
}

/// Stores a subscription, new or changed.
pub async fn save(
    conn: &mut SandboxConn,
    stored: &StoredSubscription,
) -> Result<(), ProviderError> {
    conn.execute(
        "INSERT INTO sandbox_subscriptions (id, customer, object, pending_items, next_event_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object,
             pending_items = excluded.pending_items, next_event_at = excluded.next_event_at",
        &[
            stored.object["id"].as_str().into(),
            stored.object["customer"].as_str().into(),
            stored.object.to_string().into(),
            Value::from(stored.pending.clone()).to_string().into(),
            stored.next_event_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A subscription that has not ended: only those can change.
async fn load_live(conn: &mut SandboxConn, id: &str) -> Result<StoredSubscription, ProviderError> {
    let stored = load(conn, id).await?;
    if stored.is_ended() {
        return Err(ProviderError::UnexpectedState(
            "This subscription has already ended.".into(),
        ));
    }
    Ok(stored)
}

/// Schedules the cancellation at the end of the period (decided at `decided_at`), or with
/// `None` takes it back.
fn cancel_at_period_end(object: &mut Value, decided_at: Option<i64>) {
    object["cancel_at_period_end"] = json!(decided_at.is_some());
    object["cancel_at"] = match decided_at {
        Some(_) => object["current_period_end"].clone(),
        None => Value::Null,
    };
    object["canceled_at"] = json!(decided_at);
}

/// Creates a subscription: a trial, or a first invoice charged at once.
pub async fn create_subscription(
    conn: &mut SandboxConn,
    new: &NewSubscription,
    now: i64,
) -> Result<Value, ProviderError> {
    let trial_end = new
        .trial_days
        .filter(|days| *days > 0)
        .map(|days| now + i64::from(days) * DAY);
    let period_end = trial_end.unwrap_or_else(|| add_interval(now, &new.price.interval));
    customers::require(conn, &new.stripe_customer_id).await?;
    let mut object = json!({
        "id": stripe_like_id("sub"),
        "object": "subscription",
        "billing_cycle_anchor": period_end,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": new.price.currency,
        "current_period_end": period_end,
        "current_period_start": now,
        "customer": new.stripe_customer_id,
        "ended_at": null,
        "latest_invoice": null,
        "livemode": false,
        "metadata": {metadata::SUBSCRIPTION_ID: new.subscription_id},
        "start_date": now,
        "status": if trial_end.is_some() { "trialing" } else { "incomplete" },
        "trial_end": trial_end,
        "trial_start": trial_end.map(|_| now),
    });
    set_price(&mut object, price_object(&new.price));
    let mut stored = StoredSubscription {
        object,
        pending: vec![],
        next_event_at: Some(trial_end.unwrap_or(now + INCOMPLETE_EXPIRES_AFTER)),
    };
    save(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.created", &stored.object, None).await?;
    if trial_end.is_none() {
        let paid = bill_period(conn, &mut stored, "subscription_create", vec![], now).await?;
        if paid {
            stored.object["status"] = json!("active");
            stored.next_event_at = Some(period_end);
            stored.save_updated(conn).await?;
        } else {
            save(conn, &stored).await?;
        }
    }
    Ok(stored.object)
}

/// Cancels now, or schedules the cancellation for the end of the period.
async fn cancel_subscription(
    conn: &mut SandboxConn,
    id: &str,
    at_period_end: bool,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut stored = load_live(conn, id).await?;
    if !at_period_end {
        end_subscription(conn, stored, now).await?;
        return Ok(load(conn, id).await?.object);
    }
    cancel_at_period_end(&mut stored.object, Some(now));
    stored.save_updated(conn).await?;
    Ok(stored.object)
}

/// Undoes a cancellation at period end.
async fn resume_subscription(conn: &mut SandboxConn, id: &str) -> Result<Value, ProviderError> {
    let mut stored = load(conn, id).await?;
    if stored.is_ended() || stored.object["cancel_at_period_end"] != true {
        return Err(ProviderError::UnexpectedState(
            "Only a subscription scheduled to cancel at the end of its period can be resumed."
                .into(),
        ));
    }
    cancel_at_period_end(&mut stored.object, None);
    stored.save_updated(conn).await?;
    Ok(stored.object)
}

/// Moves to another price as Stripe does by default: within the same interval, the unused
/// time on the old price is credited and the remaining time on the new one charged on the next
/// invoice; a new interval restarts the period and invoices now. A trial just switches.
async fn change_price(
    conn: &mut SandboxConn,
    id: &str,
    new_price: &PlanPrice,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut stored = load_live(conn, id).await?;
    let old = price_of(&stored.object);
    let new = price_object(new_price);
    if old["id"] == new["id"] {
        return Ok(stored.object);
    }
    let status = stored.status();
    let start = stored.object["current_period_start"]
        .as_i64()
        .unwrap_or(now);
    let end = stored.object["current_period_end"].as_i64().unwrap_or(now);
    let (length, remaining) = ((end - start).max(1), (end - now).clamp(0, end - start));
    let old_amount = old["unit_amount"].as_i64().unwrap_or(0);
    let unused = line(
        &format!(
            "Unused time on {}",
            old["nickname"].as_str().unwrap_or("the previous plan")
        ),
        -prorate(old_amount, remaining, length),
        0,
        (now, end),
        true,
    );
    set_price(&mut stored.object, new.clone());
    let same_interval = old["recurring"]["interval"] == new["recurring"]["interval"];
    if status == "trialing" || status == "incomplete" {
        // Nothing was paid for the current period yet.
    } else if same_interval {
        let remaining_line = line(
            &format!(
                "Remaining time on {}",
                new["nickname"].as_str().unwrap_or("the new plan")
            ),
            prorate(new_price.amount, remaining, length),
            0,
            (now, end),
            true,
        );
        stored.pending.push(unused);
        stored.pending.push(remaining_line);
    } else {
        let new_end = add_interval(now, &new_price.interval);
        stored.object["current_period_start"] = json!(now);
        stored.object["current_period_end"] = json!(new_end);
        stored.object["billing_cycle_anchor"] = json!(now);
        let paid = bill_period(conn, &mut stored, "subscription_update", vec![unused], now).await?;
        stored.object["status"] = json!(if paid { "active" } else { "past_due" });
        stored.next_event_at = Some(new_end);
    }
    stored.save_updated(conn).await?;
    Ok(stored.object)
}

/// Brings a subscription in line with the outcome of one of its invoices.
pub async fn settle_subscription(
    conn: &mut SandboxConn,
    subscription_id: &str,
    paid: bool,
    exhausted: bool,
    now: i64,
) -> Result<(), ProviderError> {
    let mut stored = load(conn, subscription_id).await?;
    let status = stored.status();
    if stored.is_ended() {
        return Ok(());
    }
    if paid {
        if status == "active" {
            return Ok(());
        }
        stored.object["status"] = json!("active");
        stored.next_event_at = stored.object["current_period_end"].as_i64();
        return stored.save_updated(conn).await;
    }
    if exhausted && status != "incomplete" {
        return end_subscription(conn, stored, now).await;
    }
    if status == "active" {
        stored.object["status"] = json!("past_due");
        stored.save_updated(conn).await?;
    }
    Ok(())
}

/// Cancels for good: no more renewals, no more retries of its invoices.
pub async fn end_subscription(
    conn: &mut SandboxConn,
    mut stored: StoredSubscription,
    now: i64,
) -> Result<(), ProviderError> {
    stored.object["status"] = json!("canceled");
    stored.object["ended_at"] = json!(now);
    if stored.object["canceled_at"].is_null() {
        stored.object["canceled_at"] = json!(now);
    }
    stored.next_event_at = None;
    save(conn, &stored).await?;
    let id = stored.object["id"].as_str().unwrap_or_default().to_owned();
    let retried: Vec<String> = conn
        .values(
            "SELECT id FROM sandbox_invoices WHERE subscription = $1 AND next_attempt_at IS NOT NULL",
            &[(&id).into()],
        )
        .await?;
    for invoice_id in retried {
        let mut invoice = invoices::load(conn, &invoice_id).await?;
        invoice["next_payment_attempt"] = Value::Null;
        invoices::save(conn, &invoice).await?;
    }
    outbox::enqueue(conn, "customer.subscription.deleted", &stored.object, None).await
}
