//! Collecting an invoice: one attempt from a test card (a PaymentIntent of the invoice's own,
//! confirmed like any other), the invoice paid or its failure recorded, and the automatic
//! retries Stripe's smart retries would schedule (3, 5 and 7 days apart, four attempts in all).

use serde_json::{json, Value};

use super::ids::DAY;
use super::invoices::{self, finalize};
use super::payments::{confirm, new_payment_intent, save_intent};
use super::store::SandboxConn;
use super::subscriptions::settle_subscription;
use super::{customers, outbox};
use crate::provider::{NewPaymentIntent, ProviderError};

/// Collection attempts on a subscription invoice before the subscription is canceled.
pub const MAX_ATTEMPTS: u64 = 4;
/// Days from a failed attempt to the next one (after the first, second and third failure).
const RETRY_DELAY_DAYS: [i64; 3] = [3, 5, 7];

/// One collection attempt, from `payment_method` or the customer's default. Returns whether
/// the invoice is now paid. With `retries`, a failure schedules the next automatic attempt
/// (until `MAX_ATTEMPTS`).
pub async fn attempt_payment(
    conn: &mut SandboxConn,
    invoice: &mut Value,
    payment_method: Option<String>,
    retries: bool,
    now: i64,
) -> Result<bool, ProviderError> {
    let id = invoice["id"].as_str().unwrap_or_default().to_owned();
    let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
    // What credit notes left to pay (all of the total without any).
    let total = invoice["amount_remaining"]
        .as_i64()
        .or_else(|| invoice["total"].as_i64())
        .unwrap_or(0);
    let attempt = invoice["attempt_count"].as_u64().unwrap_or(0) + 1;
    invoice["attempt_count"] = json!(attempt);
    invoice["attempted"] = json!(true);
    let payment_method = match payment_method {
        Some(method) => Some(method),
        None => customers::default_payment_method(conn, &customer).await?,
    };
    let failure = if total <= 0 {
        None
    } else if let Some(method) = payment_method {
        let mut intent = new_payment_intent(&NewPaymentIntent {
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
        let confirmed = confirm(conn, &intent_id, &method, &key).await?;
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
            invoices::save(conn, invoice).await?;
            outbox::enqueue(conn, "invoice.paid", invoice, None).await?;
            outbox::enqueue(conn, "invoice.payment_succeeded", invoice, None).await?;
            Ok(true)
        }
        Some(message) => {
            let next = (retries && attempt < MAX_ATTEMPTS)
                .then(|| now + RETRY_DELAY_DAYS[(attempt - 1) as usize] * DAY);
            invoice["next_payment_attempt"] = json!(next);
            invoice["last_payment_error"] = json!({"type": "card_error", "message": message});
            invoices::save(conn, invoice).await?;
            outbox::enqueue(conn, "invoice.payment_failed", invoice, None).await?;
            Ok(false)
        }
    }
}

/// Collects an open invoice now (a draft is finalized first, as Stripe does).
pub async fn pay_invoice(
    conn: &mut SandboxConn,
    id: &str,
    payment_method: Option<&str>,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = invoices::load(conn, id).await?;
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
    if payment_method.is_none()
        && customers::default_payment_method(conn, &customer)
            .await?
            .is_none()
    {
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
