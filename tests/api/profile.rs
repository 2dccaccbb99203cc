//! The profile: read, patched (and copied to the provider), invalid patches and patches that
//! change nothing record nothing, concurrent updates win or conflict.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn the_profile_can_be_read_and_patched_and_reaches_the_provider() {
    let app = spawn_app().await;
    let session = app
        .register("ada@example.com", "correct horse", "Ada")
        .await;
    let token = session["token"].as_str().unwrap();

    let response = app
        .patch_json(
            "/api/auth/profile",
            &json!({"name": "Ada King", "phone": "+44 20 7946 0000"}),
            token,
        )
        .await;
    let status = response.status();
    let updated: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Ada King");
    assert_eq!(updated["phone"], "+44 20 7946 0000");
    assert_eq!(updated["email"], "ada@example.com");

    let read: Value = app.get_json("/api/auth/profile", Some(token)).await;
    assert_eq!(read, updated);

    let (name, phone): (String, Option<String>) =
        sqlx::query_as("SELECT name, phone FROM sandbox_customers WHERE id = ?")
            .bind(session["customer"]["stripe_customer_id"].as_str().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), phone.as_deref()),
        ("Ada King", Some("+44 20 7946 0000"))
    );

    let cleared: Value = app
        .patch_json("/api/auth/profile", &json!({"phone": null}), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["phone"], Value::Null);
    assert_eq!(cleared["name"], "Ada King");
}

#[tokio::test]
async fn an_invalid_profile_patch_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token_for("ada@example.com").await;
    let before = app.event_count().await;
    let response = app
        .patch_json(
            "/api/auth/profile",
            &json!({"name": "", "phone": "+33 6 12 34 56 78"}),
            &token,
        )
        .await;
    let error = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;
    assert_eq!(error["error"]["field"], "name");
    let response = app
        .patch_json(
            "/api/auth/profile",
            &json!({"email": "new@example.com"}),
            &token,
        )
        .await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_patch_that_changes_nothing_records_nothing() {
    let app = spawn_app().await;
    let token = app.token_for("ada@example.com").await;
    let before = app.event_count().await;
    let response = app
        .patch_json(
            "/api/auth/profile",
            &json!({"name": "Test Customer"}),
            &token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn concurrent_profile_updates_either_win_or_conflict() {
    let app = spawn_app().await;
    let token = app.token_for("ada@example.com").await;
    let updates = (0..8).map(|i| {
        let body = json!({"name": format!("Name {i}")});
        let (app, token) = (&app, &token);
        async move { app.patch_json("/api/auth/profile", &body, token).await }
    });
    let responses = futures::future::join_all(updates).await;
    let mut winners = 0;
    for response in responses {
        match response.status() {
            StatusCode::OK => winners += 1,
            StatusCode::CONFLICT => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "conflict");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(winners >= 1);
    let sequences: Vec<i64> = sqlx::query_scalar(
        "SELECT sequence FROM events WHERE aggregate_type = 'Customer' ORDER BY sequence",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
    // Each winner recorded one update (the sandbox's customer.updated echoes add only
    // Stripe bookkeeping, applied through the webhook path).
    let api_updates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE event_type = 'ProfileUpdated'
            AND metadata NOT LIKE '%stripe_event_id%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(api_updates, winners as i64);
}
