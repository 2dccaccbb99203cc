//! Stripe-shaped JSON for the sandbox's objects, stored as documents and served as Stripe
//! would serve them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{stripe_like_id, unix_now};
use crate::provider::stripe::metadata;
use crate::provider::NewPaymentIntent;

/// A fresh PaymentIntent awaiting its payment method.
pub fn new_payment_intent(intent: &NewPaymentIntent) -> Value {
    let id = stripe_like_id("pi");
    let secret = format!(
        "{id}_secret_{}",
        stripe_like_id("s").trim_start_matches("s_")
    );
    let mut metadata: BTreeMap<String, String> = intent.metadata.clone();
    metadata.insert(metadata::PAYMENT_ID.into(), intent.payment_id.clone());
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "capture_method": "automatic",
        "client_secret": secret,
        "confirmation_method": "automatic",
        "created": unix_now(),
        "currency": intent.currency,
        "customer": intent.stripe_customer_id,
        "description": intent.description,
        "last_payment_error": null,
        "latest_charge": null,
        "livemode": false,
        "metadata": metadata,
        "next_action": null,
        "payment_method": null,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
    })
}

/// The charge a successful confirmation creates.
pub fn charge(intent: &Value, payment_method: &str) -> Value {
    json!({
        "id": stripe_like_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "captured": true,
        "created": unix_now(),
        "currency": intent["currency"],
        "customer": intent["customer"],
        "livemode": false,
        "paid": true,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "refunded": false,
        "refunds": { "object": "list", "data": [] },
        "status": "succeeded",
    })
}

/// A refund of `amount` against `intent`.
pub fn refund(intent: &Value, amount: i64, billstream_refund_id: &str) -> Value {
    json!({
        "id": stripe_like_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": intent["latest_charge"],
        "created": unix_now(),
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "status": "succeeded",
        "metadata": {metadata::REFUND_ID: billstream_refund_id},
    })
}

/// The `next_action` Stripe returns when 3-D Secure is required.
pub fn three_d_secure_action(intent_id: &str) -> Value {
    json!({
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": format!("/sandbox/payment_intents/{intent_id}/authenticate"),
        },
    })
}

/// A Stripe `customer` object from the sandbox's row.
pub fn customer(
    id: &str,
    email: &str,
    name: &str,
    phone: Option<&str>,
    metadata: &Value,
    created: i64,
) -> Value {
    json!({
        "id": id,
        "object": "customer",
        "created": created,
        "email": email,
        "livemode": false,
        "metadata": metadata,
        "name": name,
        "phone": phone,
    })
}
