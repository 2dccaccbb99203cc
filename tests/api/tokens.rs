//! Bearer tokens end when they should: a password change ends every token issued before it
//! (also within the same second), a deleted customer's tokens stop, a token whose customer
//! does not exist is refused everywhere, and logout ends the current token only.

use std::time::Duration;

use billstream::auth::JwtKeys;
use billstream::provider::stripe::signature::signature_header;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp, TEST_JWT_SECRET};

const PASSWORD: &str = "correct horse battery";

async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let response = app
        .post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "login of {email}");
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn profile_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/auth/profile", Some(token)).await.status()
}

#[tokio::test]
async fn a_password_change_ends_every_earlier_token_even_within_the_same_second() {
    let app = spawn_app().await;
    let first = app.token_for("ada@example.com").await;
    let second = login(&app, "ada@example.com", PASSWORD).await;
    let response = app
        .post_json(
            "/api/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "new secret words"}),
            Some(&first),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // At once: the login that follows may well fall in the same second as the change.
    let fresh = login(&app, "ada@example.com", "new secret words").await;
    for (label, token) in [("first", &first), ("second", &second)] {
        let response = app.get("/api/auth/profile", Some(token)).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let history = app.get("/api/payments/history", Some(token)).await;
        assert_eq!(history.status(), StatusCode::UNAUTHORIZED, "{label}");
    }
    assert_eq!(profile_status(&app, &fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_current_token_and_only_it() {
    let app = spawn_app().await;
    let phone = app.token_for("ada@example.com").await;
    let laptop = login(&app, "ada@example.com", PASSWORD).await;
    let response = app
        .post_json("/api/auth/logout", &json!({}), Some(&laptop))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.get("/api/auth/profile", Some(&laptop)).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let again = app
        .post_json("/api/auth/logout", &json!({}), Some(&laptop))
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(profile_status(&app, &phone).await, StatusCode::OK);
    // Signing in again opens a new session.
    let new = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(profile_status(&app, &new).await, StatusCode::OK);
}

#[tokio::test]
async fn a_logout_holds_across_a_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("billstream.db");
    let app = crate::helpers::spawn_app_on(&db).await;
    let token = app.token_for("ada@example.com").await;
    let response = app
        .post_json("/api/auth/logout", &json!({}), Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.stop().await;
    let app = crate::helpers::spawn_app_on(&db).await;
    assert_eq!(profile_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// Every route a customer token opens, with a made-up id where the path needs one.
const CUSTOMER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/auth/profile"),
    ("PATCH", "/api/auth/profile"),
    ("POST", "/api/auth/password"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/payments/create-intent"),
    ("POST", "/api/payments/confirm"),
    ("GET", "/api/payments/history"),
    ("GET", "/api/payments/x"),
    ("POST", "/api/payments/x/refund"),
    ("GET", "/api/subscriptions"),
    ("POST", "/api/subscriptions"),
    ("GET", "/api/subscriptions/x"),
    ("POST", "/api/subscriptions/x/cancel"),
    ("POST", "/api/subscriptions/x/resume"),
    ("POST", "/api/subscriptions/x/change-plan"),
    ("POST", "/api/billing/payment-method"),
    ("POST", "/api/invoices/create"),
    ("GET", "/api/invoices/list"),
    ("GET", "/api/invoices/stats"),
    ("GET", "/api/invoices/x"),
    ("POST", "/api/invoices/x/finalize"),
    ("POST", "/api/invoices/x/pay"),
    ("POST", "/api/invoices/x/void"),
    ("POST", "/api/invoices/x/send"),
    ("GET", "/api/invoices/x/pdf"),
];

/// Every customer route answers 401 `unauthorized` to `token`.
async fn refused_everywhere(app: &TestApp, token: &str) {
    for (method, path) in CUSTOMER_ROUTES {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}");
    }
}

#[tokio::test]
async fn a_validly_signed_token_of_a_customer_that_does_not_exist_is_refused_everywhere() {
    let app = spawn_app().await;
    let keys = JwtKeys::new(TEST_JWT_SECRET.as_bytes(), Duration::from_secs(3600));
    let token = keys
        .issue(
            "00000000-0000-4000-8000-000000000000",
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
    refused_everywhere(&app, &token).await;
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_deleted_customers_tokens_stop_working_and_it_cannot_sign_in() {
    const SECRET: &str = "whsec_token_tests";
    let app = spawn_app_with(&[("STRIPE_WEBHOOK_SECRET", SECRET)]).await;
    let session = app
        .register("ada@example.com", PASSWORD, "Ada Lovelace")
        .await;
    let token = session["token"].as_str().unwrap().to_owned();
    let stripe_id = session["customer"]["stripe_customer_id"].as_str().unwrap();
    assert_eq!(profile_status(&app, &token).await, StatusCode::OK);

    let now = chrono::Utc::now().timestamp();
    let event = json!({
        "id": "evt_customer_deleted_1", "object": "event", "api_version": "2024-06-20",
        "created": now, "livemode": false, "pending_webhooks": 1, "type": "customer.deleted",
        "data": {"object": {"id": stripe_id, "object": "customer", "deleted": true}},
    })
    .to_string();
    let response = app
        .client
        .post(app.url("/api/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .header(
            "Stripe-Signature",
            signature_header(SECRET, now, event.as_bytes()),
        )
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The inbox applies the event asynchronously.
    let mut refused = false;
    for _ in 0..100 {
        if profile_status(&app, &token).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the deleted customer's token still works");
    refused_everywhere(&app, &token).await;
    let response = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn tokens_carry_an_id_and_the_credentials_version() {
    let app = spawn_app().await;
    let first = app.token_for("ada@example.com").await;
    let second = login(&app, "ada@example.com", PASSWORD).await;
    let keys = JwtKeys::new(TEST_JWT_SECRET.as_bytes(), Duration::from_secs(3600));
    let (first, second) = (keys.verify(&first).unwrap(), keys.verify(&second).unwrap());
    assert_ne!(first.jti, second.jti);
    assert_eq!(first.cv, 0);
    assert!(first.iat > 0 && first.exp > first.iat);
}
