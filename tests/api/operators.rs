//! The operators' API beyond invoices and figures: a customer's timeline (and
//! `billstream events --customer`), the webhook inbox over HTTP, the projections' health.

use std::time::Duration;

use billstream::provider::stripe::signature::signature_header;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, billstream, json_lines, nowhere_url, open_pool, spawn_app_with,
    spawn_quiet_app_on, TestApp,
};

pub(crate) const OPERATOR: &str = "operator-token-for-operators-tests";
const SECRET: &str = "whsec_operators_tests";

/// A server whose sandbox deliveries go nowhere: only the test's webhooks arrive.
pub(crate) async fn operators_app() -> TestApp {
    spawn_app_with(&[
        ("OPERATOR_TOKEN", OPERATOR),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("SANDBOX_WEBHOOK_URL", &nowhere_url()),
    ])
    .await
}

pub(crate) async fn admin(app: &TestApp, path: &str) -> reqwest::Response {
    app.get(path, Some(OPERATOR)).await
}

pub(crate) async fn admin_json(app: &TestApp, path: &str) -> Value {
    let response = admin(app, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

pub(crate) async fn deliver(app: &TestApp, event: &Value) {
    let body = event.to_string();
    let header = signature_header(SECRET, chrono::Utc::now().timestamp(), body.as_bytes());
    let response = app
        .client
        .post(app.url("/api/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", header)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

pub(crate) fn event(id: &str, kind: &str, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20",
        "created": chrono::Utc::now().timestamp(), "livemode": false, "pending_webhooks": 1,
        "type": kind, "data": {"object": object},
    })
}

/// An operator's retry of stored event `event_id`.
async fn retry(app: &TestApp, event_id: &str) -> reqwest::Response {
    let path = format!("/api/admin/inbox/{event_id}/retry");
    app.post_json(&path, &json!({}), Some(OPERATOR)).await
}

/// Waits until stored event `event_id` is in `status`.
pub(crate) async fn inbox_status(app: &TestApp, event_id: &str, status: &str) -> Value {
    let path = format!("/api/admin/inbox/{event_id}");
    for _ in 0..100 {
        let stored = admin_json(app, &path).await;
        if stored["status"] == status {
            return stored;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{event_id} never became {status}");
}

#[tokio::test]
async fn a_customers_timeline_lists_their_events_in_commit_order_with_their_causes() {
    let app = operators_app().await;
    let registered = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "story@example.com", "password": "correct horse", "name": "Story"}),
            None,
        )
        .await;
    let register_request = registered.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let session: Value = registered.json().await.unwrap();
    let token = session["token"].as_str().unwrap();
    let customer_id = session["customer"]["id"].as_str().unwrap();
    let stripe_customer = session["customer"]["stripe_customer_id"].as_str().unwrap();
    let intent = app.create_intent(token, 2_000, "eur").await;
    let payment_id = intent["payment_id"].as_str().unwrap();
    app.confirm(
        token,
        intent["payment_intent_id"].as_str().unwrap(),
        "pm_card_visa",
    )
    .await;
    let refund = app
        .post_json(
            &format!("/api/payments/{payment_id}/refund"),
            &json!({"amount": 300}),
            Some(token),
        )
        .await;
    assert_eq!(refund.status(), StatusCode::OK);
    // A change made in Stripe's dashboard reaches the customer through a webhook (a minute
    // later by Stripe's clock: an event no newer than the registration would be stale).
    let mut rename = event(
        "evt_story_rename",
        "customer.updated",
        json!({"id": stripe_customer, "object": "customer", "name": "Story Teller", "phone": null}),
    );
    rename["created"] = json!(chrono::Utc::now().timestamp() + 60);
    deliver(&app, &rename).await;
    inbox_status(&app, "evt_story_rename", "applied").await;
    // Someone else's payment is not part of the story.
    let other = app.token_for("other@example.com").await;
    app.create_intent(&other, 999, "eur").await;

    let path = format!("/api/admin/customers/{customer_id}/timeline");
    // The two receipts (payment, refund) are sent in the background: the story is read once
    // both are on it, so the reads compared below see the same events.
    let mut timeline = admin_json(&app, &path).await;
    for _ in 0..100 {
        let sent = timeline["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "EmailSent")
            .count();
        if sent == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        timeline = admin_json(&app, &path).await;
    }
    let entries = timeline["data"].as_array().unwrap();
    assert_eq!(timeline["next_after"], Value::Null);
    let positions: Vec<i64> = entries
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    // The customer, the payment and the e-mails sent about them (the receipts, once sent).
    assert!(entries.iter().all(|e| e["aggregate_id"] == customer_id
        || e["aggregate_id"] == payment_id
        || e["aggregate_type"] == "MailMessage"));
    let summaries: Vec<&str> = entries
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    for wanted in [
        "Customer registered as story@example.com",
        "Payment of 20.00 EUR succeeded",
        "Refund of 3.00 EUR requested",
        "Refund of 3.00 EUR succeeded",
        "Stripe event customer.updated applied",
        "Profile updated",
    ] {
        assert!(
            summaries.contains(&wanted),
            "{wanted} not in {summaries:#?}"
        );
    }
    let first = &entries[0];
    assert_eq!(first["event_type"], "CustomerRegistered");
    assert_eq!(first["aggregate_type"], "Customer");
    assert_eq!(first["request_id"], register_request.as_str());
    assert_eq!(first["stripe_event_id"], Value::Null);
    let renamed = entries
        .iter()
        .find(|e| e["event_type"] == "ProfileUpdated")
        .unwrap();
    assert_eq!(renamed["stripe_event_id"], "evt_story_rename");
    assert_eq!(renamed["request_id"], Value::Null);
    assert!(!timeline.to_string().contains("$2b$"));

    // Paged: two at a time, the pages join up into the whole story.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = admin_json(&app, &format!("{path}?limit=2&after={after}")).await;
        paged.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(&paged, entries);

    // The same lines from the command line.
    let lines = json_lines(&billstream(&app.db_path, &["events", "--customer", customer_id]).await);
    assert_eq!(&lines, entries);

    let unknown = admin(&app, "/api/admin/customers/nobody/timeline").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let bad_limit = admin(&app, &format!("{path}?limit=0")).await;
    assert_error(bad_limit, StatusCode::BAD_REQUEST, "invalid_query").await;
    let as_customer = app.get(&path, Some(token)).await;
    assert_error(as_customer, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// A payment intent of 20.00 EUR for `stripe_customer`, and its charge with 5.00 refunded.
pub(crate) fn paid_and_refunded(stripe_customer: &str) -> (Value, Value) {
    let intent = json!({
        "id": "pi_parked", "object": "payment_intent", "amount": 2_000, "currency": "eur",
        "customer": stripe_customer, "status": "succeeded", "amount_received": 2_000,
        "client_secret": "pi_parked_secret_x", "created": chrono::Utc::now().timestamp(),
        "metadata": {}, "livemode": false, "last_payment_error": null, "next_action": null,
    });
    let charge = json!({
        "id": "ch_parked", "object": "charge", "amount": 2_000, "amount_captured": 2_000,
        "amount_refunded": 500, "captured": true, "customer": stripe_customer,
        "payment_intent": "pi_parked", "refunded": false, "status": "succeeded",
        "refunds": {"object": "list", "data": [{"id": "re_parked", "object": "refund", "amount": 500, "status": "succeeded"}]},
    });
    (intent, charge)
}

#[tokio::test]
async fn a_parked_webhook_retried_by_an_operator_is_applied_exactly_once() {
    let app = operators_app().await;
    let session = app
        .register("parked@example.com", "correct horse", "Parked")
        .await;
    let stripe_customer = session["customer"]["stripe_customer_id"].as_str().unwrap();
    let (intent, charge) = paid_and_refunded(stripe_customer);
    // The refund arrives first: its payment is not recorded yet, so it fails and waits.
    deliver(&app, &event("evt_refund", "charge.refunded", charge)).await;
    let mut failing = Value::Null;
    for _ in 0..100 {
        failing = admin_json(&app, "/api/admin/inbox/evt_refund").await;
        if failing["attempts"].as_i64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failing["status"], "pending");
    assert!(failing["last_error"]
        .as_str()
        .unwrap()
        .contains("not recorded yet"));
    // Fast-forward the seven other failures: it is parked as after the eighth.
    sqlx::query(
        "UPDATE stripe_inbox SET status = 'parked', attempts = 8 WHERE event_id = 'evt_refund'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let parked = admin_json(&app, "/api/admin/inbox?status=parked").await;
    assert_eq!(parked["data"][0]["event_id"], "evt_refund");
    assert_eq!(parked["data"][0]["attempts"], 8);
    assert_eq!(parked["data"].as_array().unwrap().len(), 1);
    let shown = admin_json(&app, "/api/admin/inbox/evt_refund").await;
    assert_eq!(shown["payload"]["data"]["object"]["id"], "ch_parked");
    assert_eq!(shown["type"], "charge.refunded");

    // The payment arrives; the operator puts the refund back.
    deliver(&app, &event("evt_paid", "payment_intent.succeeded", intent)).await;
    let paid = inbox_status(&app, "evt_paid", "applied").await;
    assert_eq!(
        paid["payload"]["data"]["object"]["client_secret"],
        "<redacted>"
    );
    let retried = retry(&app, "evt_refund").await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    inbox_status(&app, "evt_refund", "applied").await;
    let again = retry(&app, "evt_refund").await;
    assert_error(again, StatusCode::CONFLICT, "already_applied").await;
    let unknown = retry(&app, "evt_nobody").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let applied_once: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE json_extract(metadata, '$.stripe_event_id') = 'evt_refund'
            AND event_type = 'StripeEventApplied'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(applied_once, 1);
    let refunded: i64 = sqlx::query_scalar(
        "SELECT refunded_amount FROM payments WHERE payment_intent_id = 'pi_parked'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(refunded, 500);

    let bad = admin(&app, "/api/admin/inbox?status=failed").await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    let missing = admin(&app, "/api/admin/inbox/evt_nobody").await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    let all = admin_json(&app, "/api/admin/inbox?limit=1").await;
    assert_eq!(all["data"][0]["event_id"], "evt_refund");
    let next = all["next_after"].as_i64().unwrap();
    let rest = admin_json(&app, &format!("/api/admin/inbox?after={next}")).await;
    assert_eq!(rest["data"][0]["event_id"], "evt_paid");
    assert_eq!(rest["next_after"], Value::Null);
}

#[tokio::test]
async fn projection_health_shows_each_views_checkpoint_lag_rows_and_last_rebuild() {
    let app = operators_app().await;
    let token = app.token_for("health@example.com").await;
    app.create_intent(&token, 1_500, "eur").await;
    let head = app.event_count().await;
    let health = admin_json(&app, "/api/admin/projections").await;
    let views = health["data"].as_array().unwrap();
    let names: Vec<&str> = views.iter().map(|v| v["name"].as_str().unwrap()).collect();
    for name in [
        "customer_profiles",
        "payments",
        "subscriptions",
        "invoices",
        "mailer",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let payments = views.iter().find(|v| v["name"] == "payments").unwrap();
    assert_eq!(payments["checkpoint"], head);
    assert_eq!(payments["lag_events"], 0);
    assert_eq!(payments["lag_seconds"], 0);
    assert_eq!(payments["rows"], 1);
    assert_eq!(
        payments["tables"],
        json!([{"table": "payments", "rows": 1}])
    );
    assert_eq!(payments["rebuilt_at"], Value::Null);

    let replay = billstream(&app.db_path, &["replay"]).await;
    assert!(replay.status.success());
    let health = admin_json(&app, "/api/admin/projections").await;
    let payments = health["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "payments")
        .unwrap();
    assert!(payments["rebuilt_at"].as_str().is_some(), "{payments}");
    let without_token = app.get("/api/admin/projections", None).await;
    assert_error(without_token, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_lagging_projection_shows_its_lag_in_events_and_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("lagging.db");
    let app = spawn_quiet_app_on(&db_path).await;
    let token = app.token_for("lag@example.com").await;
    app.create_intent(&token, 1_500, "eur").await;
    let head = app.event_count().await;
    app.stop().await;
    // As after a crash between an append and its projection: the payments view is two
    // events behind (its rows are not looked at here).
    let pool = open_pool(&db_path).await;
    sqlx::query("UPDATE projection_checkpoints SET position = ? WHERE projection = 'payments'")
        .bind(head - 2)
        .execute(&pool)
        .await
        .unwrap();
    let oldest: String = sqlx::query_scalar("SELECT recorded_at FROM events WHERE position = ?")
        .bind(head - 1)
        .fetch_one(&pool)
        .await
        .unwrap();
    let oldest = chrono::DateTime::parse_from_rfc3339(&oldest).unwrap();
    let now = oldest.with_timezone(&chrono::Utc) + chrono::Duration::seconds(90);
    let health = projections::Projector::with_all_projections(pool.clone())
        .health(now)
        .await
        .unwrap();
    let payments = health.iter().find(|view| view.name == "payments").unwrap();
    assert_eq!(
        (
            payments.checkpoint,
            payments.lag_events,
            payments.lag_seconds
        ),
        (head - 2, 2, 90)
    );
    let profiles = health
        .iter()
        .find(|view| view.name == "customer_profiles")
        .unwrap();
    assert_eq!((profiles.lag_events, profiles.lag_seconds), (0, 0));
}
