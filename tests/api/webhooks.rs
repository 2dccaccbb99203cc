//! Stripe webhooks: verified, durable, deduplicated and order-tolerant.

use std::time::Duration;

use billstream::provider::stripe::signature::signature_header;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

const SECRET: &str = "whsec_webhook_tests";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A closed loopback port: the sandbox's own deliveries go nowhere, so only the test's events
/// reach the endpoint.
fn nowhere() -> String {
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

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "data": { "object": object },
    })
}

/// A PaymentIntent born in Stripe (no billstream metadata) for `customer`.
fn intent(id: &str, customer: &str, status: &str, created: i64) -> Value {
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

fn refunded_charge(intent: &str, customer: &str, refund_id: &str, amount: i64) -> Value {
    json!({
        "id": format!("ch_{intent}"), "object": "charge", "amount": 2_000, "amount_captured": 2_000,
        "amount_refunded": amount, "captured": true, "customer": customer, "payment_intent": intent,
        "refunded": amount == 2_000, "status": "succeeded",
        "refunds": {"object": "list", "data": [{"id": refund_id, "object": "refund", "amount": amount, "status": "succeeded"}]},
    })
}

/// The lifecycle of one object, oldest first: 3-D Secure asked, then failed, then paid with
/// another card, then partly refunded.
fn lifecycle(n: usize, customer: &str, base: i64) -> Vec<Value> {
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
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (state >> 33) as usize % (i + 1));
    }
}

#[tokio::test]
async fn bad_signatures_are_refused_and_store_nothing() {
    let app = app_with_secret(SECRET).await;
    let body = event(
        "evt_sig",
        "payment_intent.succeeded",
        now(),
        json!({"id": "pi_x", "object": "payment_intent"}),
    )
    .to_string();
    let v1 = |secret: &str, t: i64| {
        hex::encode(billstream::provider::stripe::signature::sign(
            secret,
            t,
            body.as_bytes(),
        ))
    };
    let t = now();
    let cases = [
        ("missing", None),
        ("garbage", Some("garbage".to_owned())),
        ("empty", Some(String::new())),
        ("v0 only", Some(format!("t={t},v0={}", v1(SECRET, t)))),
        (
            "stale",
            Some(format!("t={},v1={}", t - 301, v1(SECRET, t - 301))),
        ),
        (
            "future",
            Some(format!("t={},v1={}", t + 301, v1(SECRET, t + 301))),
        ),
        (
            "wrong secret",
            Some(format!("t={t},v1={}", v1("whsec_wrong", t))),
        ),
        (
            "other timestamp",
            Some(format!("t={},v1={}", t - 1, v1(SECRET, t))),
        ),
    ];
    for (label, header) in cases {
        let response = deliver_with(&app, &body, header).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_signature").await;
        assert!(!error.to_string().contains(SECRET), "{label}");
    }
    let tampered = signature_header(SECRET, t, body.as_bytes());
    let response = deliver_with(&app, &body.replace("evt_sig", "evt_sig2"), Some(tampered)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_signature").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_inbox").await, 0);

    let several = format!("t={t},v1={},v1={}", v1("whsec_other", t), v1(SECRET, t));
    assert_eq!(
        deliver_with(&app, &body, Some(several)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rotated_secret_verifies_during_the_rotation() {
    let app = app_with_secret("whsec_new_one, whsec_webhook_tests").await;
    let response = deliver(
        &app,
        &event("evt_rot", "balance.available", now(), json!({"id": "bal"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_over_one_mib_is_a_413_and_a_signed_non_event_a_400() {
    let app = app_with_secret(SECRET).await;
    let big = format!("{{\"padding\":\"{}\"}}", "x".repeat(1024 * 1024));
    let response = deliver_with(
        &app,
        &big,
        Some(signature_header(SECRET, now(), big.as_bytes())),
    )
    .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let not_event = "{\"hello\":\"world\"}";
    let response = deliver_with(
        &app,
        not_event,
        Some(signature_header(SECRET, now(), not_event.as_bytes())),
    )
    .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_event").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_inbox").await, 0);
}

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_and_applied_once() {
    let app = app_with_secret(SECRET).await;
    let (token, customer) = stripe_customer(&app, "dup@example.com").await;
    let succeeded = event(
        "evt_dup",
        "payment_intent.succeeded",
        now(),
        intent("pi_dup", &customer, "succeeded", now()),
    );
    let first: Value = deliver(&app, &succeeded).await.json().await.unwrap();
    let second: Value = deliver(&app, &succeeded).await.json().await.unwrap();
    assert_eq!(first, json!({"received": true, "duplicate": false}));
    assert_eq!(second, json!({"received": true, "duplicate": true}));
    settled(&app).await;
    let history = app.get_json("/api/payments/history", Some(&token)).await;
    assert_eq!(
        history["data"].as_array().unwrap().len(),
        1,
        "born in Stripe, shown once"
    );
    assert_eq!(history["data"][0]["status"], "succeeded");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentSucceeded'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn each_event_delivered_three_times_in_shuffled_order_is_applied_once() {
    let app = app_with_secret(SECRET).await;
    let (token, customer) = stripe_customer(&app, "thrice@example.com").await;
    let events = lifecycle(1, &customer, now() - 60);
    let mut deliveries: Vec<Value> = events
        .iter()
        .flat_map(|e| [e.clone(), e.clone(), e.clone()])
        .collect();
    shuffle(&mut deliveries, 7);
    for delivery in &deliveries {
        assert_eq!(deliver(&app, delivery).await.status(), StatusCode::OK);
    }
    settled(&app).await;
    let payment = &app.get_json("/api/payments/history", Some(&token)).await["data"][0];
    assert_eq!(payment["status"], "partially_refunded");
    assert_eq!(payment["refunded_amount"], 300);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_inbox").await, 4);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentRefunded'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentSucceeded'"
        )
        .await,
        1
    );
    let recorded = count(
        &app,
        "SELECT COUNT(DISTINCT json_extract(payload, '$.StripeEventApplied.stripe_event_id'))
           + COUNT(DISTINCT json_extract(payload, '$.StaleStripeEventIgnored.stripe_event_id'))
           FROM events WHERE event_type IN ('StripeEventApplied', 'StaleStripeEventIgnored')",
    )
    .await;
    let recordings = count(
        &app,
        "SELECT COUNT(*) FROM events WHERE event_type IN ('StripeEventApplied', 'StaleStripeEventIgnored')",
    )
    .await;
    assert_eq!(recorded, recordings, "no Stripe event recorded twice");
}

#[tokio::test]
async fn an_older_failure_arriving_after_a_success_is_recorded_as_stale() {
    let app = app_with_secret(SECRET).await;
    let (token, customer) = stripe_customer(&app, "late@example.com").await;
    let t = now() - 30;
    deliver(
        &app,
        &event(
            "evt_ok",
            "payment_intent.succeeded",
            t + 10,
            intent("pi_late", &customer, "succeeded", t),
        ),
    )
    .await;
    settled(&app).await;
    deliver(
        &app,
        &event(
            "evt_ko",
            "payment_intent.payment_failed",
            t + 5,
            intent("pi_late", &customer, "failed", t),
        ),
    )
    .await;
    settled(&app).await;
    let payment = &app.get_json("/api/payments/history", Some(&token)).await["data"][0];
    assert_eq!(payment["status"], "succeeded");
    let reason: String = sqlx::query_scalar(
        "SELECT json_extract(payload, '$.StaleStripeEventIgnored.reason') FROM events
          WHERE event_type = 'StaleStripeEventIgnored'
            AND json_extract(payload, '$.StaleStripeEventIgnored.stripe_event_id') = 'evt_ko'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(reason.contains("already succeeded"), "{reason}");
}

#[tokio::test]
async fn unknown_types_and_unknown_customers_are_stored_and_marked() {
    let app = app_with_secret(SECRET).await;
    deliver(
        &app,
        &event(
            "evt_unknown_type",
            "balance.available",
            now(),
            json!({"id": "bal_1", "object": "balance"}),
        ),
    )
    .await;
    deliver(
        &app,
        &event(
            "evt_stranger",
            "payment_intent.succeeded",
            now(),
            intent("pi_stranger", "cus_nobody", "succeeded", now()),
        ),
    )
    .await;
    deliver(
        &app,
        &event(
            "evt_sub",
            "customer.subscription.created",
            now(),
            json!({"id": "sub_1", "object": "subscription", "customer": "cus_nobody"}),
        ),
    )
    .await;
    deliver(
        &app,
        &event(
            "evt_inv",
            "invoice.created",
            now(),
            json!({"id": "in_1", "object": "invoice", "customer": "cus_nobody"}),
        ),
    )
    .await;
    settled(&app).await;
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, status FROM stripe_inbox ORDER BY event_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [
            ("evt_inv".to_owned(), "unknown_customer".to_owned()),
            ("evt_stranger".to_owned(), "unknown_customer".to_owned()),
            ("evt_sub".to_owned(), "unknown_customer".to_owned()),
            ("evt_unknown_type".to_owned(), "ignored".to_owned()),
        ]
    );
    let payload: String =
        sqlx::query_scalar("SELECT payload FROM stripe_inbox WHERE event_id = 'evt_stranger'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(payload.contains("pi_stranger"), "the raw body is kept");
}

#[tokio::test]
async fn a_thousand_concurrent_deliveries_across_a_hundred_objects_end_in_the_intended_states() {
    let app = app_with_secret(SECRET).await;
    let (token, customer) = stripe_customer(&app, "storm@example.com").await;
    let base = now() - 600;
    let mut deliveries = Vec::new();
    for n in 0..100 {
        for (i, event) in lifecycle(n, &customer, base).into_iter().enumerate() {
            // 10 deliveries per object: every event at least twice, the refund four times.
            let copies = if i == 3 { 4 } else { 2 };
            deliveries.extend(std::iter::repeat_n(event, copies));
        }
    }
    assert_eq!(deliveries.len(), 1_000);
    shuffle(&mut deliveries, 42);
    let statuses: Vec<StatusCode> = futures::stream::iter(deliveries.iter())
        .map(|delivery| deliver(&app, delivery))
        .buffer_unordered(64)
        .map(|response| response.status())
        .collect()
        .await;
    assert!(statuses.iter().all(|status| *status == StatusCode::OK));
    settled(&app).await;

    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_inbox").await, 400);
    let mut payments = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/payments/history?limit=100&cursor={cursor}"),
            None => "/api/payments/history?limit=100".to_owned(),
        };
        let page = app.get_json(&path, Some(&token)).await;
        payments.extend(page["data"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(payments.len(), 100);
    for payment in &payments {
        assert_eq!(payment["status"], "partially_refunded", "{payment}");
        assert_eq!(payment["refunded_amount"], 300, "{payment}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentRefunded'"
        )
        .await,
        100
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentCreated'"
        )
        .await,
        100
    );
}

#[tokio::test]
async fn a_sandbox_payment_reaches_its_final_state_through_the_webhook_path() {
    // The sandbox delivers its own signed events to the service.
    let app = spawn_app().await;
    let token = app.token_for("sandbox-hooks@example.com").await;
    let created = app.create_intent(&token, 4_200, "eur").await;
    let intent_id = created["payment_intent_id"].as_str().unwrap();
    let (_, pending) = app
        .confirm(&token, intent_id, "pm_card_authenticationRequired")
        .await;
    assert_eq!(pending["status"], "requires_action");
    app.post_json(
        &format!("/sandbox/payment_intents/{intent_id}/authenticate"),
        &json!({"success": true}),
        None,
    )
    .await;
    // No GET (which would ask the provider): only the webhook can bring the news.
    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar("SELECT status FROM payments WHERE payment_intent_id = ?")
            .bind(intent_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if status == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "succeeded");
    let applied: String = sqlx::query_scalar(
        "SELECT status FROM stripe_inbox WHERE type = 'payment_intent.succeeded' AND object_id = ?",
    )
    .bind(intent_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(applied, "applied");
}

#[tokio::test]
async fn localstripe_webhooks_reach_the_projections() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ])
    .await;
    localstripe
        .register_webhook(
            "billstream",
            &app.url("/api/webhooks/stripe"),
            SECRET,
            &[
                "payment_intent.succeeded",
                "payment_intent.payment_failed",
                "customer.updated",
                "customer.subscription.created",
                "customer.subscription.updated",
                "invoice.created",
                "invoice.payment_succeeded",
            ],
        )
        .await;
    let (token, customer) = stripe_customer(&app, "localstripe-hooks@example.com").await;

    // A payment made in Stripe directly, for a customer we know, shows up in our history.
    let intent_id = localstripe.pay_directly(&customer, 3_300).await;
    let mut found = Value::Null;
    for _ in 0..100 {
        let history = app.get_json("/api/payments/history", Some(&token)).await;
        if let Some(payment) = history["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["payment_intent_id"] == intent_id.as_str())
        {
            found = payment.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found["status"], "succeeded", "{found}");
    assert_eq!(found["amount"], 3_300);
    let verified: i64 = count(
        &app,
        "SELECT COUNT(*) FROM stripe_inbox WHERE type = 'payment_intent.succeeded'",
    )
    .await;
    assert!(
        verified >= 1,
        "localstripe's signed delivery was verified and stored"
    );

    // A subscription made in Stripe directly shows up in our subscriptions.
    let subscription_id = localstripe
        .subscribe_directly(&customer, "plan_particulier", 990)
        .await;
    let mut row = None;
    for _ in 0..100 {
        row = projections::Subscriptions::find_by_stripe_id(&app.pool, &subscription_id)
            .await
            .unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = row.expect("the subscription reached the projection");
    assert_eq!(row.status, "active");
    // A price outside billstream's catalog: recorded, but no plan of ours.
    assert_eq!(row.price.as_deref(), Some("plan_particulier"));
    assert_eq!(row.plan, None);
    assert!(row.current_period_end.is_some());
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(row.customer_id, profile["id"].as_str().unwrap());

    // The customer sees it through the API; another customer does not.
    let listed = app.get_json("/api/subscriptions", Some(&token)).await;
    assert_eq!(
        listed["data"][0]["stripe_subscription_id"],
        subscription_id.as_str()
    );
    assert_eq!(listed["data"][0]["status"], "active");
    assert_eq!(listed["data"][0]["plan"], Value::Null);

    // Its first invoice, made and paid by Stripe, is adopted from the invoice events.
    let mut invoice = Value::Null;
    for _ in 0..100 {
        let invoices = app.get_json("/api/invoices/list", Some(&token)).await;
        invoice = invoices["data"][0].clone();
        if invoice["status"] == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(invoice["status"], "paid", "{invoice}");
    assert_eq!(invoice["total"], 990);
    assert_eq!(invoice["amount_paid"], 990);
    assert_eq!(invoice["stripe_subscription_id"], subscription_id.as_str());
    let one = app
        .get_json(
            &format!("/api/subscriptions/{}", row.subscription_id),
            Some(&token),
        )
        .await;
    assert_eq!(one, listed["data"][0]);
    let (stranger, _) = stripe_customer(&app, "stranger@example.com").await;
    let hidden = app
        .get(
            &format!("/api/subscriptions/{}", row.subscription_id),
            Some(&stranger),
        )
        .await;
    assert_error(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let empty = app.get_json("/api/subscriptions", Some(&stranger)).await;
    assert_eq!(empty["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn operators_can_list_and_requeue_inbox_events() {
    let app = app_with_secret(SECRET).await;
    deliver(
        &app,
        &event(
            "evt_cli",
            "balance.available",
            now(),
            json!({"id": "bal_1"}),
        ),
    )
    .await;
    settled(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_billstream"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", app.db_path.display()),
            )
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let listed = run(&["inbox", "list", "--status", "ignored"]);
    let line: Value =
        serde_json::from_slice(listed.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["event_id"], "evt_cli");
    assert_eq!(line["status"], "ignored");
    let retried = run(&["inbox", "retry", "evt_cli"]);
    assert!(String::from_utf8_lossy(&retried.stdout).contains("1 event(s) queued again"));
    let refused = run(&["inbox", "retry"]);
    assert!(!refused.status.success());
}

#[tokio::test]
async fn against_localstripe_our_api_subscribes_on_a_plan_and_the_first_invoice_is_paid() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ])
    .await;
    localstripe
        .register_webhook(
            "billstream",
            &app.url("/api/webhooks/stripe"),
            SECRET,
            &[
                "customer.subscription.created",
                "customer.subscription.updated",
                "invoice.created",
                "invoice.payment_succeeded",
                "invoice.payment_failed",
            ],
        )
        .await;
    let (token, _) = stripe_customer(&app, "api-subscriber@example.com").await;
    let card = localstripe.card_payment_method("4242424242424242").await;

    // No Prices API there: the plan's price is a legacy Plan created once by lookup key.
    let response = app
        .post_json(
            "/api/subscriptions",
            &json!({"plan": "professionnel", "payment_method": card, "trial_days": 0}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "active", "{created}");
    assert_eq!(created["plan"], "professionnel");
    assert_eq!(created["amount"], 2_990);
    let (status, plan) = localstripe
        .get("/v1/plans/billstream_professionnel_2990_eur_month")
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");

    let mut invoice = Value::Null;
    for _ in 0..100 {
        let invoices = app.get_json("/api/invoices/list", Some(&token)).await;
        invoice = invoices["data"][0].clone();
        if invoice["status"] == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(invoice["status"], "paid", "{invoice}");
    assert_eq!(invoice["total"], 2_990);
    assert_eq!(
        invoice["stripe_subscription_id"],
        created["stripe_subscription_id"]
    );

    // Cancelling at period end goes to Stripe and back.
    let id = created["subscription_id"].as_str().unwrap();
    let response = app
        .post_json(
            &format!("/api/subscriptions/{id}/cancel"),
            &json!({"at_period_end": true}),
            Some(&token),
        )
        .await;
    let cancelling: Value = response.json().await.unwrap();
    assert_eq!(cancelling["cancel_at_period_end"], true, "{cancelling}");
}
