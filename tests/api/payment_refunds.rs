//! Refunds on the sandbox: partial then full, concurrent, never above the captured amount;
//! an unpaid payment and another customer's payment.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn customer(app: &TestApp) -> String {
    app.token_for("payer@example.com").await
}

#[tokio::test]
async fn partial_then_full_refunds_never_exceed_the_captured_amount() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 3_000, "eur").await;
    let payment_id = created["payment_id"].as_str().unwrap();
    app.confirm(
        &token,
        created["payment_intent_id"].as_str().unwrap(),
        "pm_card_visa",
    )
    .await;
    let refund_url = format!("/api/payments/{payment_id}/refund");

    let partial: Value = app
        .post_json(&refund_url, &json!({"amount": 1_000}), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(partial["status"], "partially_refunded");
    assert_eq!(partial["refunded_amount"], 1_000);

    let too_much = app
        .post_json(&refund_url, &json!({"amount": 2_001}), Some(&token))
        .await;
    let error = assert_error(
        too_much,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;
    assert_eq!(error["error"]["field"], "amount");

    let rest: Value = app
        .client
        .post(app.url(&refund_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["status"], "refunded");
    assert_eq!(rest["refunded_amount"], 3_000);

    let again = app
        .post_json(&refund_url, &json!({"amount": 1}), Some(&token))
        .await;
    assert_error(again, StatusCode::CONFLICT, "invalid_state").await;
}

#[tokio::test]
async fn concurrent_refunds_are_each_made_once_and_never_exceed_the_payment() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 1_000, "eur").await;
    let payment_id = created["payment_id"].as_str().unwrap().to_owned();
    let intent = created["payment_intent_id"].as_str().unwrap().to_owned();
    app.confirm(&token, &intent, "pm_card_visa").await;

    // When ten refunds of 300 arrive at once.
    let refund_url = format!("/api/payments/{payment_id}/refund");
    let refunds = (0..10).map(|_| {
        let (app, token, refund_url) = (&app, &token, &refund_url);
        async move {
            app.post_json(refund_url, &json!({"amount": 300}), Some(token))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(refunds).await;

    // Then three are made (900 of 1000), the others are refused, and every acknowledged one
    // is a distinct refund at the provider and in the read model.
    let made = statuses.iter().filter(|status| status.is_success()).count();
    assert_eq!(made, 3, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| status.is_success() || status.is_client_error()),
        "{statuses:?}"
    );
    let provider_refunds: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_refunds WHERE payment_intent = ?")
            .bind(&intent)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(provider_refunds, 3);
    let (status, refunded): (String, i64) =
        sqlx::query_as("SELECT status, refunded_amount FROM payments WHERE payment_id = ?")
            .bind(&payment_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), refunded), ("partially_refunded", 900));
}

#[tokio::test]
async fn an_unpaid_payment_cannot_be_refunded() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 3_000, "eur").await;
    let response = app
        .post_json(
            &format!(
                "/api/payments/{}/refund",
                created["payment_id"].as_str().unwrap()
            ),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "invalid_state").await;
}

#[tokio::test]
async fn another_customers_payment_is_not_found() {
    let app = spawn_app().await;
    let owner = app.token_for("owner@example.com").await;
    let stranger = app.token_for("stranger@example.com").await;
    let created = app.create_intent(&owner, 1_000, "eur").await;
    let payment_id = created["payment_id"].as_str().unwrap();
    let intent = created["payment_intent_id"].as_str().unwrap();

    assert_error(
        app.get(&format!("/api/payments/{payment_id}"), Some(&stranger))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (status, _) = app.confirm(&stranger, intent, "pm_card_visa").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(
        app.post_json(
            &format!("/api/payments/{payment_id}/refund"),
            &json!({}),
            Some(&stranger),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let history: Value = app.get_json("/api/payments/history", Some(&stranger)).await;
    assert_eq!(history["data"].as_array().unwrap().len(), 0);
}
