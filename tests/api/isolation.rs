//! One customer cannot see or touch another's objects: every customer route called with
//! another customer's ids answers 404, and the owner's objects are unchanged afterwards.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_quiet_app, TestApp};

async fn ok(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> Value {
    let response = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

fn id(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
        .to_owned()
}

/// What the owner sees of its objects.
async fn snapshot(app: &TestApp, token: &str, ids: &Owned) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        format!("/api/payments/{}", ids.payment),
        format!("/api/payments/{}", ids.pending_payment),
        format!("/api/subscriptions/{}", ids.subscription),
        format!("/api/invoices/{}", ids.draft_invoice),
        format!("/api/invoices/{}", ids.open_invoice),
        "/api/payments/history".to_owned(),
        "/api/subscriptions".to_owned(),
        "/api/invoices/list".to_owned(),
        "/api/invoices/stats".to_owned(),
        "/api/auth/profile".to_owned(),
    ] {
        let response = app.get(&path, Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        seen.push(response.json().await.unwrap());
    }
    seen
}

struct Owned {
    payment: String,
    pending_payment: String,
    pending_intent: String,
    subscription: String,
    draft_invoice: String,
    open_invoice: String,
}

#[tokio::test]
async fn every_customer_route_answers_404_to_another_customers_ids_and_changes_nothing() {
    let app = spawn_quiet_app().await;
    let owner = app.token_for("owner@example.com").await;
    let intruder = app.token_for("intruder@example.com").await;

    let paid = app.create_intent(&owner, 5_000, "eur").await;
    let (status, _) = app
        .confirm(&owner, &id(&paid, "payment_intent_id"), "pm_card_visa")
        .await;
    assert_eq!(status, StatusCode::OK);
    let pending = app.create_intent(&owner, 1_500, "eur").await;
    let subscription = ok(
        &app,
        "POST",
        "/api/subscriptions",
        json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
        &owner,
    )
    .await;
    let invoice = |finalize: bool| {
        ok(
            &app,
            "POST",
            "/api/invoices/create",
            json!({"currency": "eur", "finalize": finalize,
                   "items": [{"description": "Consulting", "quantity": 1, "unit_amount": 10_000}]}),
            &owner,
        )
    };
    let draft = invoice(false).await;
    let open = invoice(true).await;
    let ids = Owned {
        payment: id(&paid, "payment_id"),
        pending_payment: id(&pending, "payment_id"),
        pending_intent: id(&pending, "payment_intent_id"),
        subscription: id(&subscription, "subscription_id"),
        draft_invoice: id(&draft, "invoice_id"),
        open_invoice: id(&open, "invoice_id"),
    };
    let before = snapshot(&app, &owner, &ids).await;
    let events_before = app.event_count().await;

    let (p, s, d, o) = (
        &ids.payment,
        &ids.subscription,
        &ids.draft_invoice,
        &ids.open_invoice,
    );
    let matrix: Vec<(&str, String, Value)> = vec![
        ("GET", format!("/api/payments/{p}"), json!(null)),
        (
            "GET",
            format!("/api/payments/{}", ids.pending_payment),
            json!(null),
        ),
        ("POST", format!("/api/payments/{p}/refund"), json!({})),
        (
            "POST",
            format!("/api/payments/{p}/refund"),
            json!({"amount": 100}),
        ),
        (
            "POST",
            "/api/payments/confirm".to_owned(),
            json!({"payment_intent_id": ids.pending_intent, "payment_method": "pm_card_visa"}),
        ),
        ("GET", format!("/api/subscriptions/{s}"), json!(null)),
        (
            "POST",
            format!("/api/subscriptions/{s}/cancel"),
            json!({"at_period_end": false}),
        ),
        (
            "POST",
            format!("/api/subscriptions/{s}/resume"),
            json!(null),
        ),
        (
            "POST",
            format!("/api/subscriptions/{s}/change-plan"),
            json!({"plan": "professionnel"}),
        ),
        ("GET", format!("/api/invoices/{d}"), json!(null)),
        ("GET", format!("/api/invoices/{o}"), json!(null)),
        ("GET", format!("/api/invoices/{o}/pdf"), json!(null)),
        ("POST", format!("/api/invoices/{d}/finalize"), json!(null)),
        (
            "POST",
            format!("/api/invoices/{o}/pay"),
            json!({"payment_method": "pm_card_visa"}),
        ),
        ("POST", format!("/api/invoices/{o}/void"), json!(null)),
        ("POST", format!("/api/invoices/{o}/send"), json!(null)),
    ];
    for (method, path, body) in &matrix {
        let mut request = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&intruder);
        if !body.is_null() {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found", "{method} {path}");
    }
    // The intruder's own lists show nothing of the owner's.
    for path in [
        "/api/payments/history",
        "/api/subscriptions",
        "/api/invoices/list",
    ] {
        let body = app.get_json(path, Some(&intruder)).await;
        assert_eq!(body["data"], json!([]), "{path}");
    }
    let stats = app.get_json("/api/invoices/stats", Some(&intruder)).await;
    assert_eq!(stats["data"], json!([]));

    assert_eq!(
        app.event_count().await,
        events_before,
        "nothing was recorded"
    );
    assert_eq!(
        snapshot(&app, &owner, &ids).await,
        before,
        "the owner's objects"
    );
}
