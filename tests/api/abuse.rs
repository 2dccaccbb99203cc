//! Abuse limits: per-address and per-account rate limits on login, registration, password
//! change and payments answer 429 with `Retry-After` and the error body; failed logins slow an
//! account down by delays counted in the database (they hold across a restart); the webhook
//! endpoint is not rate-limited.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_on_with, spawn_app_with, TestApp};

const PASSWORD: &str = "correct horse battery";

async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    app.post_json(
        "/api/auth/login",
        &json!({"email": email, "password": password}),
        None,
    )
    .await
}

/// A 429 with a whole-second `Retry-After` within `max` and the given error code.
async fn assert_limited(response: Response, code: &str, max: u64) -> u64 {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=max).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, code).await;
    retry_after
}

#[tokio::test]
async fn logins_over_the_address_rate_get_429_with_retry_after() {
    let app = spawn_app_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_LOGIN_PER_ADDRESS", "3/min"),
        ("RATE_LIMIT_LOGIN_PER_ACCOUNT", "off"),
    ])
    .await;
    for attempt in 0..3 {
        let email = format!("nobody{attempt}@example.com");
        let response = login(&app, &email, "wrong password").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let response = login(&app, "someone@example.com", "wrong password").await;
    assert_limited(response, "rate_limited", 60).await;
    // Other limited routes have their own budget.
    let registered = app.register("ada@example.com", PASSWORD, "Ada").await;
    assert!(registered["token"].is_string());
}

#[tokio::test]
async fn an_account_has_its_own_budget_whatever_the_address() {
    let app = spawn_app_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_LOGIN_PER_ADDRESS", "off"),
        ("RATE_LIMIT_LOGIN_PER_ACCOUNT", "2/min"),
    ])
    .await;
    app.register("ada@example.com", PASSWORD, "Ada").await;
    for _ in 0..2 {
        assert_eq!(
            login(&app, "ada@example.com", PASSWORD).await.status(),
            StatusCode::OK
        );
    }
    // The same account spelled differently is the same account.
    let response = login(&app, " ADA@example.com", PASSWORD).await;
    assert_limited(response, "rate_limited", 60).await;
    let response = login(&app, "grace@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registrations_password_changes_and_payments_are_limited() {
    let app = spawn_app_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_REGISTER_PER_ADDRESS", "2/h"),
        ("RATE_LIMIT_PASSWORD_PER_ACCOUNT", "1/h"),
        ("RATE_LIMIT_PAYMENTS_PER_ACCOUNT", "2/h"),
    ])
    .await;
    let token = app.token_for("ada@example.com").await;
    app.register("grace@example.com", PASSWORD, "Grace").await;
    let third = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve"}),
            None,
        )
        .await;
    assert_limited(third, "rate_limited", 3600).await;

    for _ in 0..2 {
        app.create_intent(&token, 1000, "eur").await;
    }
    let response = app
        .post_json(
            "/api/payments/create-intent",
            &json!({"amount": 1000, "currency": "eur"}),
            Some(&token),
        )
        .await;
    assert_limited(response, "rate_limited", 3600).await;

    let change = json!({"current_password": "wrong password", "new_password": "new secret words"});
    let first = app
        .post_json("/api/auth/password", &change, Some(&token))
        .await;
    assert_eq!(first.status(), StatusCode::FORBIDDEN);
    let second = app
        .post_json("/api/auth/password", &change, Some(&token))
        .await;
    assert_limited(second, "rate_limited", 3600).await;
}

#[tokio::test]
async fn the_webhook_endpoint_takes_a_burst_beyond_every_limit() {
    let app = spawn_app_with(&[
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_LOGIN_PER_ADDRESS", "1/h"),
        ("RATE_LIMIT_REGISTER_PER_ADDRESS", "1/h"),
        ("RATE_LIMIT_PAYMENTS_PER_ADDRESS", "1/h"),
    ])
    .await;
    for _ in 0..100 {
        let response = app
            .client
            .post(app.url("/api/webhooks/stripe"))
            .header("Stripe-Signature", "t=1,v1=00")
            .body("{}")
            .send()
            .await
            .unwrap();
        // Refused for its signature, never for its rate.
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn failed_logins_make_an_account_wait_and_the_wait_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("billstream.db");
    let settings = [
        ("LOGIN_LOCKOUT_THRESHOLD", "3"),
        ("LOGIN_LOCKOUT_BASE_DELAY", "60"),
    ];
    let app = spawn_app_on_with(&db, &settings).await;
    app.register("ada@example.com", PASSWORD, "Ada").await;
    app.register("grace@example.com", PASSWORD, "Grace").await;
    for _ in 0..3 {
        let response = login(&app, "ada@example.com", "wrong password").await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // Even the right password waits now, before it is checked.
    let response = login(&app, "ada@example.com", PASSWORD).await;
    let first_wait = assert_limited(response, "too_many_failed_logins", 60).await;
    // An unknown account is slowed down alike, so the answers tell nothing about who exists.
    for _ in 0..3 {
        let response = login(&app, "nobody@example.com", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = login(&app, "nobody@example.com", "wrong password").await;
    assert_limited(response, "too_many_failed_logins", 60).await;
    // Another account is not affected.
    assert_eq!(
        login(&app, "grace@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.stop().await;

    let app = spawn_app_on_with(&db, &settings).await;
    let response = login(&app, "ada@example.com", PASSWORD).await;
    let wait = assert_limited(response, "too_many_failed_logins", 60).await;
    assert!(wait <= first_wait);
    let failures: i64 =
        sqlx::query_scalar("SELECT failures FROM login_failures WHERE email = 'ada@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        failures, 3,
        "a refused login during the wait is not a new failure"
    );
    app.stop().await;
}

#[tokio::test]
async fn delays_grow_with_each_failure_and_a_success_resets_them() {
    let app = spawn_app_with(&[
        ("LOGIN_LOCKOUT_THRESHOLD", "2"),
        ("LOGIN_LOCKOUT_BASE_DELAY", "1"),
    ])
    .await;
    app.register("ada@example.com", PASSWORD, "Ada").await;
    for _ in 0..2 {
        let response = login(&app, "ada@example.com", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = login(&app, "ada@example.com", "wrong password").await;
    assert_limited(response, "too_many_failed_logins", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The third failure doubles the delay.
    let response = login(&app, "ada@example.com", "wrong password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = login(&app, "ada@example.com", PASSWORD).await;
    assert_limited(response, "too_many_failed_logins", 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(remaining, 0, "a success forgets the failures");
    let body: Value = login(&app, "ada@example.com", "wrong password")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
}
