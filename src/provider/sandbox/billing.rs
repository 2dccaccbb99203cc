//! The sandbox's Stripe Billing: subscriptions on a price with trials, renewals and prorations,
//! invoices that are finalized, charged to the customer's default payment method, retried and
//! voided — each change saved as a Stripe-shaped document and announced with the webhooks
//! Stripe would send. Times are sandbox-clock times (see `clock`); events carry wall time.

use chrono::{Months, TimeZone, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::{cards, objects, outbox, save_intent, stripe_like_id};
use crate::provider::stripe::metadata;
use crate::provider::{NewInvoice, NewPaymentIntent, NewSubscription, PlanPrice, ProviderError};

/// Collection attempts on a subscription invoice before the subscription is canceled.
pub const MAX_ATTEMPTS: u64 = 4;
/// Days from a failed attempt to the next one (after the first, second and third failure).
const RETRY_DELAY_DAYS: [i64; 3] = [3, 5, 7];
/// How long a subscription whose first payment failed stays `incomplete`.
const INCOMPLETE_EXPIRES_AFTER: i64 = 23 * 3600;
const DAY: i64 = 86_400;

/// `t` plus one billing interval, in calendar months for months and years.
pub fn add_interval(t: i64, interval: &str) -> i64 {
    let months = match interval {
        "day" => return t + DAY,
        "week" => return t + 7 * DAY,
        "year" => 12,
        _ => 1,
    };
    Utc.timestamp_opt(t, 0)
        .single()
        .and_then(|at| at.checked_add_months(Months::new(months)))
        .map(|at| at.timestamp())
        .unwrap_or(t + 30 * DAY)
}

/// `amount × part / whole`, rounded half up (whole > 0, all non-negative).
fn prorate(amount: i64, part: i64, whole: i64) -> i64 {
    (amount * part * 2 + whole) / (2 * whole)
}

fn corrupt(what: &str) -> ProviderError {
    ProviderError::Provider(format!("corrupt sandbox {what} record"))
}

// ---- storage -------------------------------------------------------------------------------

/// The customer's default payment method, if the customer exists and has one.
pub async fn default_payment_method(
    conn: &mut SqliteConnection,
    customer: &str,
) -> Result<Option<String>, ProviderError> {
    let row: Option<Option<String>> = sqlx::query_scalar(
        "SELECT default_payment_method FROM sandbox_customers WHERE id = ? AND deleted = 0",
    )
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or(ProviderError::NoSuchCustomer)
}

/// Makes `payment_method` (a test card) the customer's default.
pub async fn set_default_payment_method(
    conn: &mut SqliteConnection,
    customer: &str,
    payment_method: &str,
) -> Result<Value, ProviderError> {
    let card = cards::resolve(payment_method).ok_or_else(|| {
        ProviderError::InvalidPaymentMethod(
            "This is not a sandbox test card: use pm_card_visa, pm_card_chargeDeclined, \
             pm_card_chargeCustomerFail or another of Stripe's test payment methods."
                .into(),
        )
    })?;
    let updated = sqlx::query(
        "UPDATE sandbox_customers SET default_payment_method = ? WHERE id = ? AND deleted = 0",
    )
    .bind(card.payment_method)
    .bind(customer)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ProviderError::NoSuchCustomer);
    }
    Ok(json!({"id": customer, "object": "customer",
              "invoice_settings": {"default_payment_method": card.payment_method}}))
}

struct StoredSubscription {
    object: Value,
    pending: Vec<Value>,
    next_event_at: Option<i64>,
}

async fn load_subscription(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<StoredSubscription, ProviderError> {
    let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT object, pending_items, next_event_at FROM sandbox_subscriptions WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let (object, pending, next_event_at) = row.ok_or(ProviderError::NoSuchSubscription)?;
    Ok(StoredSubscription {
        object: serde_json::from_str(&object).map_err(|_| corrupt("subscription"))?,
        pending: serde_json::from_str(&pending).map_err(|_| corrupt("subscription"))?,
        next_event_at,
    })
}

async fn save_subscription(
    conn: &mut SqliteConnection,
    stored: &StoredSubscription,
) -> Result<(), ProviderError> {
    sqlx::query(
        "INSERT INTO sandbox_subscriptions (id, customer, object, pending_items, next_event_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object,
             pending_items = excluded.pending_items, next_event_at = excluded.next_event_at",
    )
    .bind(stored.object["id"].as_str())
    .bind(stored.object["customer"].as_str())
    .bind(stored.object.to_string())
    .bind(Value::from(stored.pending.clone()).to_string())
    .bind(stored.next_event_at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn load_invoice(conn: &mut SqliteConnection, id: &str) -> Result<Value, ProviderError> {
    let object: Option<String> =
        sqlx::query_scalar("SELECT object FROM sandbox_invoices WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let object = object.ok_or(ProviderError::NoSuchInvoice)?;
    serde_json::from_str(&object).map_err(|_| corrupt("invoice"))
}

async fn save_invoice(conn: &mut SqliteConnection, invoice: &Value) -> Result<(), ProviderError> {
    sqlx::query(
        "INSERT INTO sandbox_invoices (id, customer, subscription, object, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object,
             next_attempt_at = excluded.next_attempt_at",
    )
    .bind(invoice["id"].as_str())
    .bind(invoice["customer"].as_str())
    .bind(invoice["subscription"].as_str())
    .bind(invoice.to_string())
    .bind(invoice["next_payment_attempt"].as_i64())
    .execute(conn)
    .await?;
    Ok(())
}

// ---- documents -----------------------------------------------------------------------------

fn price_object(price: &PlanPrice) -> Value {
    json!({
        "id": price.price_id,
        "object": "price",
        "active": true,
        "currency": price.currency,
        "lookup_key": format!("billstream_{}", price.plan_id),
        "nickname": price.product_name,
        "product": format!("prod_{}", price.plan_id),
        "recurring": {"interval": price.interval, "interval_count": 1},
        "type": "recurring",
        "unit_amount": price.amount,
    })
}

/// The legacy `plan` view of a price, which older integrations (and localstripe) read.
fn plan_object(price: &Value) -> Value {
    json!({
        "id": price["id"],
        "object": "plan",
        "amount": price["unit_amount"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": 1,
        "nickname": price["nickname"],
        "product": price["product"],
    })
}

fn set_price(subscription: &mut Value, price: Value) {
    let item_id = subscription["items"]["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| stripe_like_id("si"));
    subscription["plan"] = plan_object(&price);
    subscription["items"] = json!({
        "object": "list",
        "data": [{"id": item_id, "object": "subscription_item", "quantity": 1,
                  "price": price, "plan": plan_object(&price)}],
    });
}

fn price_of(subscription: &Value) -> Value {
    subscription["items"]["data"][0]["price"].clone()
}

fn line(description: &str, amount: i64, tax: i64, period: (i64, i64), proration: bool) -> Value {
    json!({
        "id": stripe_like_id("il"),
        "object": "line_item",
        "amount": amount,
        "description": description,
        "period": {"start": period.0, "end": period.1},
        "proration": proration,
        "quantity": 1,
        "tax_amounts": if tax == 0 { json!([]) } else { json!([{"amount": tax, "inclusive": false}]) },
    })
}

struct InvoiceDraft<'a> {
    customer: &'a str,
    subscription: Option<&'a str>,
    currency: &'a str,
    lines: Vec<Value>,
    collection_method: &'a str,
    days_until_due: Option<u32>,
    memo: Option<&'a str>,
    billing_reason: &'a str,
    metadata: Value,
}

fn invoice_object(draft: InvoiceDraft<'_>, now: i64) -> Value {
    let subtotal: i64 = draft
        .lines
        .iter()
        .filter_map(|line| line["amount"].as_i64())
        .sum();
    let tax: i64 = draft
        .lines
        .iter()
        .flat_map(|line| line["tax_amounts"].as_array().cloned().unwrap_or_default())
        .filter_map(|tax| tax["amount"].as_i64())
        .sum();
    let total = subtotal + tax;
    let (period_start, period_end) = draft
        .lines
        .first()
        .map(|line| {
            (
                line["period"]["start"].as_i64().unwrap_or(now),
                line["period"]["end"].as_i64().unwrap_or(now),
            )
        })
        .unwrap_or((now, now));
    json!({
        "id": stripe_like_id("in"),
        "object": "invoice",
        "amount_due": total.max(0),
        "amount_paid": 0,
        "amount_remaining": total.max(0),
        "attempt_count": 0,
        "attempted": false,
        "auto_advance": true,
        "billing_reason": draft.billing_reason,
        "collection_method": draft.collection_method,
        "created": now,
        "currency": draft.currency,
        "customer": draft.customer,
        "days_until_due": draft.days_until_due,
        "description": draft.memo,
        "due_date": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "last_payment_error": null,
        "lines": {"object": "list", "data": draft.lines},
        "livemode": false,
        "metadata": draft.metadata,
        "next_payment_attempt": null,
        "number": null,
        "paid": false,
        "payment_intent": null,
        "period_end": period_end,
        "period_start": period_start,
        "status": "draft",
        "status_transitions": {"finalized_at": null, "paid_at": null, "voided_at": null,
                               "marked_uncollectible_at": null},
        "subscription": draft.subscription,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
    })
}

// ---- invoice life --------------------------------------------------------------------------

/// Draft → open, announced with `invoice.finalized`.
async fn finalize(
    conn: &mut SqliteConnection,
    invoice: &mut Value,
    now: i64,
) -> Result<(), ProviderError> {
    invoice["status"] = json!("open");
    invoice["status_transitions"]["finalized_at"] = json!(now);
    if invoice["collection_method"] == "send_invoice" {
        let days = invoice["days_until_due"].as_i64().unwrap_or(30);
        invoice["due_date"] = json!(now + days * DAY);
    }
    save_invoice(conn, invoice).await?;
    outbox::enqueue(conn, "invoice.finalized", invoice, None).await
}

/// One collection attempt, from `payment_method` or the customer's default. Returns whether
/// the invoice is now paid. With `retries`, a failure schedules the next automatic attempt
/// (until `MAX_ATTEMPTS`).
async fn attempt_payment(
    conn: &mut SqliteConnection,
    invoice: &mut Value,
    payment_method: Option<String>,
    retries: bool,
    now: i64,
) -> Result<bool, ProviderError> {
    let id = invoice["id"].as_str().unwrap_or_default().to_owned();
    let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
    let total = invoice["total"].as_i64().unwrap_or(0);
    let attempt = invoice["attempt_count"].as_u64().unwrap_or(0) + 1;
    invoice["attempt_count"] = json!(attempt);
    invoice["attempted"] = json!(true);
    let payment_method = match payment_method {
        Some(method) => Some(method),
        None => default_payment_method(conn, &customer).await?,
    };
    let failure = if total <= 0 {
        None
    } else if let Some(method) = payment_method {
        let mut intent = objects::new_payment_intent(&NewPaymentIntent {
            payment_id: id.clone(),
            stripe_customer_id: customer.clone(),
            amount: total,
            currency: invoice["currency"].as_str().unwrap_or("eur").to_owned(),
            description: Some(format!("Payment for invoice {id}")),
            metadata: Default::default(),
        });
        // The invoice owns this intent: no billstream payment stands behind it.
        intent["metadata"] = json!({});
        intent["invoice"] = json!(id);
        intent["created"] = json!(now);
        save_intent(conn, &intent).await?;
        outbox::enqueue(conn, "payment_intent.created", &intent, None).await?;
        let intent_id = intent["id"].as_str().unwrap_or_default().to_owned();
        let key = format!("{id}-attempt-{attempt}");
        let confirmed = super::confirm(conn, &intent_id, &method, &key).await?;
        invoice["payment_intent"] = json!(intent_id);
        match confirmed["status"].as_str() {
            Some("succeeded") => None,
            Some("requires_action") => {
                Some("This payment requires the customer's authentication.".to_owned())
            }
            _ => Some(
                confirmed["last_payment_error"]["message"]
                    .as_str()
                    .unwrap_or("The payment was declined.")
                    .to_owned(),
            ),
        }
    } else {
        Some("The customer has no default payment method.".to_owned())
    };
    match failure {
        None => {
            invoice["status"] = json!("paid");
            invoice["paid"] = json!(true);
            invoice["amount_paid"] = json!(total.max(0));
            invoice["amount_remaining"] = json!(0);
            invoice["status_transitions"]["paid_at"] = json!(now);
            invoice["next_payment_attempt"] = Value::Null;
            invoice["last_payment_error"] = Value::Null;
            save_invoice(conn, invoice).await?;
            outbox::enqueue(conn, "invoice.paid", invoice, None).await?;
            outbox::enqueue(conn, "invoice.payment_succeeded", invoice, None).await?;
            Ok(true)
        }
        Some(message) => {
            let next = (retries && attempt < MAX_ATTEMPTS)
                .then(|| now + RETRY_DELAY_DAYS[(attempt - 1) as usize] * DAY);
            invoice["next_payment_attempt"] = json!(next);
            invoice["last_payment_error"] = json!({"type": "card_error", "message": message});
            save_invoice(conn, invoice).await?;
            outbox::enqueue(conn, "invoice.payment_failed", invoice, None).await?;
            Ok(false)
        }
    }
}

/// Brings a subscription in line with the outcome of one of its invoices.
async fn settle_subscription(
    conn: &mut SqliteConnection,
    subscription_id: &str,
    paid: bool,
    exhausted: bool,
    now: i64,
) -> Result<(), ProviderError> {
    let mut stored = load_subscription(conn, subscription_id).await?;
    let status = stored.object["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if matches!(status.as_str(), "canceled" | "incomplete_expired") {
        return Ok(());
    }
    if paid {
        if status == "active" {
            return Ok(());
        }
        stored.object["status"] = json!("active");
        stored.next_event_at = stored.object["current_period_end"].as_i64();
        save_subscription(conn, &stored).await?;
        return outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await;
    }
    if exhausted && status != "incomplete" {
        return end_subscription(conn, stored, now).await;
    }
    if status == "active" {
        stored.object["status"] = json!("past_due");
        save_subscription(conn, &stored).await?;
        outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await?;
    }
    Ok(())
}

/// Cancels for good: no more renewals, no more retries of its invoices.
async fn end_subscription(
    conn: &mut SqliteConnection,
    mut stored: StoredSubscription,
    now: i64,
) -> Result<(), ProviderError> {
    stored.object["status"] = json!("canceled");
    stored.object["ended_at"] = json!(now);
    if stored.object["canceled_at"].is_null() {
        stored.object["canceled_at"] = json!(now);
    }
    stored.next_event_at = None;
    save_subscription(conn, &stored).await?;
    let id = stored.object["id"].as_str().unwrap_or_default().to_owned();
    let retried: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM sandbox_invoices WHERE subscription = ? AND next_attempt_at IS NOT NULL",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    for invoice_id in retried {
        let mut invoice = load_invoice(conn, &invoice_id).await?;
        invoice["next_payment_attempt"] = Value::Null;
        save_invoice(conn, &invoice).await?;
    }
    outbox::enqueue(conn, "customer.subscription.deleted", &stored.object, None).await
}

/// Invoices one period of a subscription (plus pending prorations) and tries to collect it.
/// Returns whether it was paid.
async fn bill_period(
    conn: &mut SqliteConnection,
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
    save_invoice(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.created", &invoice, None).await?;
    finalize(conn, &mut invoice, now).await?;
    stored.object["latest_invoice"] = invoice["id"].clone();
    let retries = reason != "subscription_create";
    attempt_payment(conn, &mut invoice, None, retries, now).await
}

// ---- operations ----------------------------------------------------------------------------

/// Creates a subscription: a trial, or a first invoice charged at once.
pub async fn create_subscription(
    conn: &mut SqliteConnection,
    new: &NewSubscription,
    now: i64,
) -> Result<Value, ProviderError> {
    default_payment_method(conn, &new.stripe_customer_id).await?;
    let trial_end = new
        .trial_days
        .filter(|days| *days > 0)
        .map(|days| now + i64::from(days) * DAY);
    let period_end = trial_end.unwrap_or_else(|| add_interval(now, &new.price.interval));
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
    save_subscription(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.created", &stored.object, None).await?;
    if trial_end.is_none() {
        let paid = bill_period(conn, &mut stored, "subscription_create", vec![], now).await?;
        if paid {
            stored.object["status"] = json!("active");
            stored.next_event_at = Some(period_end);
        }
        save_subscription(conn, &stored).await?;
        if paid {
            outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await?;
        }
    }
    Ok(stored.object)
}

fn is_ended(subscription: &Value) -> bool {
    matches!(
        subscription["status"].as_str(),
        Some("canceled" | "incomplete_expired")
    )
}

/// Cancels now, or schedules the cancellation for the end of the period.
pub async fn cancel_subscription(
    conn: &mut SqliteConnection,
    id: &str,
    at_period_end: bool,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut stored = load_subscription(conn, id).await?;
    if is_ended(&stored.object) {
        return Err(ProviderError::UnexpectedState(
            "This subscription has already ended.".into(),
        ));
    }
    if !at_period_end {
        end_subscription(conn, stored, now).await?;
        return Ok(load_subscription(conn, id).await?.object);
    }
    stored.object["cancel_at_period_end"] = json!(true);
    stored.object["cancel_at"] = stored.object["current_period_end"].clone();
    stored.object["canceled_at"] = json!(now);
    save_subscription(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await?;
    Ok(stored.object)
}

/// Undoes a cancellation at period end.
pub async fn resume_subscription(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Value, ProviderError> {
    let mut stored = load_subscription(conn, id).await?;
    if is_ended(&stored.object) || stored.object["cancel_at_period_end"] != true {
        return Err(ProviderError::UnexpectedState(
            "Only a subscription scheduled to cancel at the end of its period can be resumed."
                .into(),
        ));
    }
    stored.object["cancel_at_period_end"] = json!(false);
    stored.object["cancel_at"] = Value::Null;
    stored.object["canceled_at"] = Value::Null;
    save_subscription(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await?;
    Ok(stored.object)
}

/// Moves to another price as Stripe does by default: within the same interval, the unused
/// time on the old price is credited and the remaining time on the new one charged on the next
/// invoice; a new interval restarts the period and invoices now. A trial just switches.
pub async fn change_price(
    conn: &mut SqliteConnection,
    id: &str,
    new_price: &PlanPrice,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut stored = load_subscription(conn, id).await?;
    if is_ended(&stored.object) {
        return Err(ProviderError::UnexpectedState(
            "This subscription has already ended.".into(),
        ));
    }
    let old = price_of(&stored.object);
    let new = price_object(new_price);
    if old["id"] == new["id"] {
        return Ok(stored.object);
    }
    let status = stored.object["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
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
    save_subscription(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await?;
    Ok(stored.object)
}

/// Creates a draft one-off invoice.
pub async fn create_invoice(
    conn: &mut SqliteConnection,
    new: &NewInvoice,
    now: i64,
) -> Result<Value, ProviderError> {
    default_payment_method(conn, &new.stripe_customer_id).await?;
    let lines = new
        .lines
        .iter()
        .map(|item| {
            let amounts = item.amounts();
            let mut value = line(
                &item.description,
                amounts.subtotal,
                amounts.tax,
                (now, now),
                false,
            );
            value["quantity"] = json!(item.quantity);
            value["unit_amount_excluding_tax"] = json!(item.unit_amount.to_string());
            value
        })
        .collect();
    let collection_method = serde_json::to_value(new.collection_method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "send_invoice".into());
    let invoice = invoice_object(
        InvoiceDraft {
            customer: &new.stripe_customer_id,
            subscription: None,
            currency: &new.currency,
            lines,
            collection_method: &collection_method,
            days_until_due: (collection_method == "send_invoice").then_some(new.due_days),
            memo: new.memo.as_deref(),
            billing_reason: "manual",
            metadata: json!({metadata::INVOICE_ID: new.invoice_id}),
        },
        now,
    );
    save_invoice(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.created", &invoice, None).await?;
    Ok(invoice)
}

/// Finalizes a draft; an automatically collected one is charged at once when the customer has
/// a default payment method.
pub async fn finalize_invoice(
    conn: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load_invoice(conn, id).await?;
    if invoice["status"] != "draft" {
        return Err(ProviderError::UnexpectedState(format!(
            "This invoice is {}; only a draft can be finalized.",
            invoice["status"].as_str().unwrap_or("unknown")
        )));
    }
    finalize(conn, &mut invoice, now).await?;
    if invoice["collection_method"] == "charge_automatically" {
        let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
        if default_payment_method(conn, &customer).await?.is_some() {
            attempt_payment(conn, &mut invoice, None, false, now).await?;
        }
    }
    Ok(invoice)
}

/// Collects an open invoice now (a draft is finalized first, as Stripe does).
pub async fn pay_invoice(
    conn: &mut SqliteConnection,
    id: &str,
    payment_method: Option<&str>,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load_invoice(conn, id).await?;
    match invoice["status"].as_str() {
        Some("draft") => finalize(conn, &mut invoice, now).await?,
        Some("open" | "uncollectible") => {}
        other => {
            return Err(ProviderError::UnexpectedState(format!(
                "This invoice is {}; it cannot be paid.",
                other.unwrap_or("unknown")
            )))
        }
    }
    let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
    if payment_method.is_none() && default_payment_method(conn, &customer).await?.is_none() {
        return Err(ProviderError::NoPaymentMethod);
    }
    let retries = !invoice["next_payment_attempt"].is_null();
    let paid = attempt_payment(
        conn,
        &mut invoice,
        payment_method.map(str::to_owned),
        retries,
        now,
    )
    .await?;
    if let Some(subscription) = invoice["subscription"].as_str().map(str::to_owned) {
        let exhausted = !paid && invoice["next_payment_attempt"].is_null() && retries;
        settle_subscription(conn, &subscription, paid, exhausted, now).await?;
    }
    Ok(invoice)
}

/// Voids an open (or uncollectible) invoice.
pub async fn void_invoice(
    conn: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load_invoice(conn, id).await?;
    if !matches!(invoice["status"].as_str(), Some("open" | "uncollectible")) {
        return Err(ProviderError::UnexpectedState(format!(
            "This invoice is {}; only an open invoice can be voided.",
            invoice["status"].as_str().unwrap_or("unknown")
        )));
    }
    invoice["status"] = json!("void");
    invoice["next_payment_attempt"] = Value::Null;
    invoice["amount_remaining"] = json!(0);
    invoice["status_transitions"]["voided_at"] = json!(now);
    save_invoice(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.voided", &invoice, None).await?;
    Ok(invoice)
}

/// "Sends" an open invoice (Stripe e-mails it; the sandbox records the event).
pub async fn send_invoice(conn: &mut SqliteConnection, id: &str) -> Result<Value, ProviderError> {
    let invoice = load_invoice(conn, id).await?;
    if invoice["status"] != "open" {
        return Err(ProviderError::UnexpectedState(
            "Only an open invoice can be sent.".into(),
        ));
    }
    outbox::enqueue(conn, "invoice.sent", &invoice, None).await?;
    Ok(invoice)
}

// ---- the clock's work ----------------------------------------------------------------------

/// Runs the earliest step due at `now`, if any; returns whether one ran.
pub async fn run_next_due(conn: &mut SqliteConnection, now: i64) -> Result<bool, ProviderError> {
    let subscription: Option<(String, i64)> = sqlx::query_as(
        "SELECT id, next_event_at FROM sandbox_subscriptions
          WHERE next_event_at IS NOT NULL AND next_event_at <= ?
          ORDER BY next_event_at, id LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let invoice: Option<(String, i64)> = sqlx::query_as(
        "SELECT id, next_attempt_at FROM sandbox_invoices
          WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
          ORDER BY next_attempt_at, id LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match (subscription, invoice) {
        (Some((id, at)), Some((_, retry_at))) if at <= retry_at => {
            subscription_falls_due(conn, &id, at).await?
        }
        (Some((id, at)), None) => subscription_falls_due(conn, &id, at).await?,
        (_, Some((id, at))) => retry_falls_due(conn, &id, at).await?,
        (None, None) => return Ok(false),
    }
    Ok(true)
}

/// The end of a trial or period (or of the window to pay a first invoice).
async fn subscription_falls_due(
    conn: &mut SqliteConnection,
    id: &str,
    at: i64,
) -> Result<(), ProviderError> {
    let mut stored = load_subscription(conn, id).await?;
    let status = stored.object["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if is_ended(&stored.object) {
        stored.next_event_at = None;
        return save_subscription(conn, &stored).await;
    }
    if status == "incomplete" {
        stored.object["status"] = json!("incomplete_expired");
        stored.object["ended_at"] = json!(at);
        stored.next_event_at = None;
        if let Some(invoice_id) = stored.object["latest_invoice"].as_str().map(str::to_owned) {
            if load_invoice(conn, &invoice_id).await?["status"] == "open" {
                void_invoice(conn, &invoice_id, at).await?;
            }
        }
        save_subscription(conn, &stored).await?;
        return outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await;
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
    save_subscription(conn, &stored).await?;
    outbox::enqueue(conn, "customer.subscription.updated", &stored.object, None).await
}

/// An automatic retry of an unpaid subscription invoice.
async fn retry_falls_due(
    conn: &mut SqliteConnection,
    id: &str,
    at: i64,
) -> Result<(), ProviderError> {
    let mut invoice = load_invoice(conn, id).await?;
    if invoice["status"] != "open" {
        invoice["next_payment_attempt"] = Value::Null;
        return save_invoice(conn, &invoice).await;
    }
    let paid = attempt_payment(conn, &mut invoice, None, true, at).await?;
    if let Some(subscription) = invoice["subscription"].as_str().map(str::to_owned) {
        let exhausted = !paid && invoice["next_payment_attempt"].is_null();
        settle_subscription(conn, &subscription, paid, exhausted, at).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monthly_interval_follows_the_calendar() {
        let jan_31 = Utc
            .with_ymd_and_hms(2027, 1, 31, 12, 0, 0)
            .unwrap()
            .timestamp();
        let feb_28 = Utc
            .with_ymd_and_hms(2027, 2, 28, 12, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(add_interval(jan_31, "month"), feb_28);
        let next_year = Utc
            .with_ymd_and_hms(2028, 1, 31, 12, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(add_interval(jan_31, "year"), next_year);
    }

    #[test]
    fn prorations_round_half_up() {
        assert_eq!(prorate(990, 1, 2), 495);
        assert_eq!(prorate(999, 1, 2), 500);
        assert_eq!(prorate(2990, 0, 30), 0);
        assert_eq!(prorate(2990, 30, 30), 2990);
    }
}
