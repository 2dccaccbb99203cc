//! One delivery's handling: bad signatures, secret rotation, oversized and non-event bodies,
//! duplicates, shuffled order, stale failures, unknown types and customers.

use super::*;

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
