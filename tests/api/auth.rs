//! Registration, login, password, and bearer tokens. The profile is in `profile`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use billstream::auth::JwtKeys;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

use crate::helpers::{assert_error, spawn_app, TEST_JWT_SECRET};

#[tokio::test]
async fn registration_returns_a_token_and_the_normalised_customer() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "  Ada@Example.COM ", "password": "correct horse", "name": " Ada ", "phone": "+33 6 12 34 56 78"}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let customer = &body["customer"];
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(customer["name"], "Ada");
    assert_eq!(customer["phone"], "+33 6 12 34 56 78");
    assert!(customer["stripe_customer_id"]
        .as_str()
        .unwrap()
        .starts_with("cus_"));
    assert!(customer["id"].as_str().unwrap().len() == 36);
    assert!(customer["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(customer.get("password_hash").is_none());
    assert!(
        !body.to_string().contains("$2b$"),
        "no hash in the response"
    );
    assert!(body["token"].as_str().unwrap().split('.').count() == 3);
}

#[tokio::test]
async fn registration_creates_the_provider_customer_with_our_id() {
    let app = spawn_app().await;
    let body = app
        .register("grace@example.com", "correct horse", "Grace")
        .await;
    let stripe_id = body["customer"]["stripe_customer_id"].as_str().unwrap();
    let (email, metadata): (String, String) =
        sqlx::query_as("SELECT email, metadata FROM sandbox_customers WHERE id = ?")
            .bind(stripe_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(email, "grace@example.com");
    assert!(metadata.contains(body["customer"]["id"].as_str().unwrap()));
}

#[tokio::test]
async fn an_email_already_registered_in_any_case_is_taken() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let events_before = app.event_count().await;
    let response = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "ADA@example.com", "password": "another password", "name": "Other"}),
            None,
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(app.event_count().await, events_before);
}

#[tokio::test]
async fn racing_registrations_of_one_email_create_exactly_one_account() {
    let app = spawn_app().await;
    let attempts = (0..12).map(|i| {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@Example.com"
        };
        let body =
            json!({"email": email, "password": "correct horse", "name": format!("Racer {i}")});
        let app = &app;
        async move { app.post_json("/api/auth/register", &body, None).await }
    });
    let responses = futures::future::join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "email_taken");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 1);
    let accounts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'CustomerRegistered'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(accounts, 1);
    let live_provider_customers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sandbox_customers WHERE email = 'race@example.com' AND deleted = 0",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        live_provider_customers, 1,
        "losers' provider customers are deleted"
    );
}

#[tokio::test]
async fn invalid_registrations_name_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "correct horse", "name": "Ada"}),
            "email",
        ),
        (
            json!({"email": "ada@example.com", "password": "short", "name": "Ada"}),
            "password",
        ),
        (
            json!({"email": "ada@example.com", "password": "correct horse", "name": "   "}),
            "name",
        ),
        (
            json!({"email": "ada@example.com", "password": "correct horse", "name": "Ada", "phone": "call me"}),
            "phone",
        ),
        (json!({"password": "correct horse", "name": "Ada"}), "email"),
        (
            json!({"email": "ada@example.com", "name": "Ada"}),
            "password",
        ),
        (
            json!({"email": "ada@example.com", "password": "correct horse"}),
            "name",
        ),
        (
            json!({"email": "ada@example.com", "password": 12345678, "name": "Ada"}),
            "password",
        ),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/auth/register", &body, None).await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        )
        .await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn login_with_the_right_password_returns_a_working_token() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let response = app
        .post_json(
            "/api/auth/login",
            &json!({"email": " ADA@example.com", "password": "correct horse"}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["customer"]["email"], "ada@example.com");
    let profile = app.get("/api/auth/profile", body["token"].as_str()).await;
    assert_eq!(profile.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_are_refused_alike() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let wrong_password = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": "wrong horse"}),
            None,
        )
        .await;
    let unknown = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "nobody@example.com", "password": "correct horse"}),
            None,
        )
        .await;
    let a = assert_error(
        wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let b = assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a, b, "same body for both");
}

#[tokio::test]
async fn changing_the_password_retires_the_old_one() {
    let app = spawn_app().await;
    let token = app.token_for("ada@example.com").await;
    let response = app
        .post_json(
            "/api/auth/password",
            &json!({"current_password": "correct horse battery", "new_password": "new secret words"}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let old = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_error(old, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let new = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": "new secret words"}),
            None,
        )
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_a_valid_new_one() {
    let app = spawn_app().await;
    let token = app.token_for("ada@example.com").await;
    let before = app.event_count().await;
    let wrong = app
        .post_json(
            "/api/auth/password",
            &json!({"current_password": "not my password", "new_password": "new secret words"}),
            Some(&token),
        )
        .await;
    assert_error(wrong, StatusCode::FORBIDDEN, "invalid_current_password").await;
    let short = app
        .post_json(
            "/api/auth/password",
            &json!({"current_password": "correct horse battery", "new_password": "short"}),
            Some(&token),
        )
        .await;
    let error = assert_error(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_error").await;
    assert_eq!(error["error"]["field"], "new_password");
    assert_eq!(app.event_count().await, before);
}

fn forge(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = spawn_app().await;
    let session = app
        .register("ada@example.com", "correct horse", "Ada")
        .await;
    let token = session["token"].as_str().unwrap();
    let customer_id = session["customer"]["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();

    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let claims = json!({"sub": "someone-else", "iat": now, "exp": now + 3600});
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let alg_none = forge(
        &json!({"alg": "none", "typ": "JWT"}),
        &json!({"sub": customer_id, "iat": now, "exp": now + 3600}),
        "",
    );
    let expired = JwtKeys::new(TEST_JWT_SECRET.as_bytes(), Duration::from_secs(60))
        .issue(customer_id, now - 3600)
        .unwrap();
    let other_secret = JwtKeys::new(
        b"some-other-secret-some-other-secret",
        Duration::from_secs(3600),
    )
    .issue(customer_id, now)
    .unwrap();

    for (label, authorization) in [
        ("missing", None),
        ("malformed", Some("Bearer not-a-jwt".to_owned())),
        ("wrong scheme", Some(format!("Basic {token}"))),
        ("tampered", Some(format!("Bearer {tampered}"))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("other secret", Some(format!("Bearer {other_secret}"))),
    ] {
        let mut request = app.client.get(app.url("/api/auth/profile"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{label}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{label}");
    }
}
