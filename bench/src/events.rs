//! Signed Stripe events as Stripe would deliver them to billstream.

use billstream::provider::stripe::signature::signature_header;
use serde_json::{json, Value};

use crate::service::WEBHOOK_SECRET;

/// A `payment_intent.succeeded` for a PaymentIntent born in Stripe (a Checkout, an invoice…).
pub fn payment_succeeded(
    event_id: &str,
    intent: &str,
    customer: &str,
    amount: i64,
    created: i64,
) -> String {
    envelope(
        event_id,
        "payment_intent.succeeded",
        created,
        json!({"id": intent, "object": "payment_intent", "amount": amount,
               "amount_received": amount, "currency": "eur", "customer": customer,
               "status": "succeeded", "created": created, "metadata": {}}),
    )
}

/// A `charge.refunded` on the intent's charge after the refunds of `refunds` (their amounts,
/// oldest first), all listed as Stripe lists them.
pub fn charge_refunded(
    event_id: &str,
    intent: &str,
    customer: &str,
    amount: i64,
    refunds: &[i64],
    created: i64,
) -> String {
    let charge = format!("ch_{}", intent.trim_start_matches("pi_"));
    let list: Vec<Value> = refunds
        .iter()
        .enumerate()
        .map(|(n, refund)| {
            json!({"id": format!("re_{charge}_{}", n + 1), "amount": refund, "status": "succeeded"})
        })
        .collect();
    envelope(
        event_id,
        "charge.refunded",
        created,
        json!({"id": charge, "object": "charge", "amount": amount, "amount_captured": amount,
               "amount_refunded": refunds.iter().sum::<i64>(), "customer": customer,
               "payment_intent": intent, "refunds": {"data": list}}),
    )
}

/// A `payment_intent.payment_failed` with a decline.
pub fn payment_failed(
    event_id: &str,
    intent: &str,
    customer: &str,
    amount: i64,
    created: i64,
) -> String {
    envelope(
        event_id,
        "payment_intent.payment_failed",
        created,
        json!({"id": intent, "object": "payment_intent", "amount": amount, "currency": "eur",
               "customer": customer, "status": "requires_payment_method", "created": created,
               "metadata": {},
               "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}}),
    )
}

fn envelope(event_id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({"id": event_id, "object": "event", "type": kind, "created": created,
           "livemode": false, "api_version": "2025-06-30.basil", "pending_webhooks": 1,
           "data": {"object": object}})
    .to_string()
}

/// The `Stripe-Signature` header for `body`, signed now.
pub fn sign(body: &str) -> String {
    signature_header(
        WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
        body.as_bytes(),
    )
}

/// Posts one signed event; true when billstream acknowledged it (2xx).
pub async fn deliver(client: &reqwest::Client, base: &str, body: String) -> bool {
    let header = sign(&body);
    match client
        .post(format!("{base}/api/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", header)
        .body(body)
        .send()
        .await
    {
        Ok(response) => response.status().is_success(),
        Err(_) => false,
    }
}
