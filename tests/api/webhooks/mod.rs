//! Stripe webhooks: verified, durable, deduplicated and order-tolerant. The shared fixtures
//! (signed deliveries, Stripe-shaped events) live here; `delivery` checks one delivery's
//! handling, `end_to_end` whole flows (load, the sandbox, localstripe, the operators' inbox).

mod delivery;
mod end_to_end;

use std::time::Duration;

use billstream::provider::stripe::signature::signature_header;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

pub(crate) const SECRET: &str = "whsec_webhook_tests";

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A closed loopback port: the sandbox's own deliveries go nowhere, so only the test's events
/// reach the endpoint.
pub(crate) fn nowhere() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/")
}

async fn app_with_secret(secret: &str) -> TestApp {
    spawn_app_with(&[
        ("STRIPE_WEBHOOK_SECRET", secret),
        ("SANDBOX_WEBHOOK_URL", &nowhere()),
    ])
    .await
}

async fn deliver_with(app: &TestApp, body: &str, header: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(header) = header {
        request = request.header("Stripe-Signature", header);
    }
    request.send().await.expect("delivered")
}

async fn deliver(app: &TestApp, event: &Value) -> reqwest::Response {
    let body = event.to_string();
    let header = signature_header(SECRET, now(), body.as_bytes());
    deliver_with(app, &body, Some(header)).await
}

pub(crate) fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "data": { "object": object },
    })
}

/// A PaymentIntent born in Stripe (no billstream metadata) for `customer`.
pub(crate) fn intent(id: &str, customer: &str, status: &str, created: i64) -> Value {
    let mut object = json!({
        "id": id, "object": "payment_intent", "amount": 2_000, "currency": "eur",
        "customer": customer, "status": status, "client_secret": format!("{id}_secret_x"),
        "created": created, "metadata": {}, "livemode": false,
        "last_payment_error": null, "next_action": null,
    });
    match status {
        "succeeded" => object["amount_received"] = json!(2_000),
        "requires_action" => object["next_action"] = json!({"type": "use_stripe_sdk"}),
        "failed" => {
            object["status"] = json!("requires_payment_method");
            object["last_payment_error"] = json!({"type": "card_error", "code": "card_declined",
                "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."});
        }
        _ => {}
    }
    object
}

pub(crate) fn refunded_charge(intent: &str, customer: &str, refund_id: &str, amount: i64) -> Value {
    json!({
        "id": format!("ch_{intent}"), "object": "charge", "amount": 2_000, "amount_captured": 2_000,
        "amount_refunded": amount, "captured": true, "customer": customer, "payment_intent": intent,
        "refunded": amount == 2_000, "status": "succeeded",
        "refunds": {"object": "list", "data": [{"id": refund_id, "object": "refund", "amount": amount, "status": "succeeded"}]},
    })
}

/// The lifecycle of one object, oldest first: 3-D Secure asked, then failed, then paid with
/// another card, then partly refunded.
pub(crate) fn lifecycle(n: usize, customer: &str, base: i64) -> Vec<Value> {
    let pi = format!("pi_storm{n:04}");
    vec![
        event(
            &format!("evt_{n}_a"),
            "payment_intent.requires_action",
            base + 1,
            intent(&pi, customer, "requires_action", base),
        ),
        event(
            &format!("evt_{n}_b"),
            "payment_intent.payment_failed",
            base + 2,
            intent(&pi, customer, "failed", base),
        ),
        event(
            &format!("evt_{n}_c"),
            "payment_intent.succeeded",
            base + 3,
            intent(&pi, customer, "succeeded", base),
        ),
        event(
            &format!("evt_{n}_d"),
            "charge.refunded",
            base + 4,
            refunded_charge(&pi, customer, &format!("re_storm{n}"), 300),
        ),
    ]
}

async fn stripe_customer(app: &TestApp, email: &str) -> (String, String) {
    let session = app
        .register(email, "correct horse", "Webhook Customer")
        .await;
    (
        session["token"].as_str().unwrap().to_owned(),
        session["customer"]["stripe_customer_id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// Waits until the worker has processed every stored event (retries included).
async fn settled(app: &TestApp) {
    for _ in 0..400 {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the inbox did not settle");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// A deterministic shuffle (no RNG dependency): Fisher–Yates driven by a fixed LCG.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (state >> 33) as usize % (i + 1));
    }
}
