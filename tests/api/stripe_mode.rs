//! The whole API in Stripe mode, against localstripe: the objects really exist there.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with};
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

#[tokio::test]
async fn the_payment_walk_through_works_against_localstripe() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_billstream"),
    ])
    .await;

    let config: Value = app.get_json("/api/config", None).await;
    assert_eq!(
        config,
        json!({"mode": "stripe", "stripe_publishable_key": "pk_test_billstream"})
    );

    // Registration creates the Stripe customer; a profile change reaches it.
    let session = app
        .register("stripe@example.com", "correct horse", "Stripe Mode")
        .await;
    let token = session["token"].as_str().unwrap();
    let customer_id = session["customer"]["stripe_customer_id"].as_str().unwrap();
    app.patch_json(
        "/api/auth/profile",
        &json!({"name": "Renamed In Stripe"}),
        token,
    )
    .await;
    let (status, customer) = localstripe
        .get(&format!("/v1/customers/{customer_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(customer["email"], "stripe@example.com");
    assert_eq!(customer["name"], "Renamed In Stripe");

    // A succeeded payment.
    let paid = app.create_intent_without_description(token, 2_000).await;
    let intent_id = paid["payment_intent_id"].as_str().unwrap();
    let (_, confirmed) = app.confirm(token, intent_id, "pm_card_visa").await;
    assert_eq!(confirmed["status"], "succeeded");
    let (status, intent) = localstripe
        .get(&format!("/v1/payment_intents/{intent_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["customer"], customer_id);
    assert_eq!(
        intent["metadata"]["billstream_payment_id"],
        paid["payment_id"]
    );

    // A declined one, with its code.
    let declined = app.create_intent_without_description(token, 1_500).await;
    let (_, failed) = app
        .confirm(
            token,
            declined["payment_intent_id"].as_str().unwrap(),
            "pm_card_chargeCustomerFail",
        )
        .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_code"], "card_declined");

    // A 3-D Secure one, completed.
    let secure = app.create_intent_without_description(token, 4_200).await;
    let secure_intent = secure["payment_intent_id"].as_str().unwrap();
    let method = localstripe.card_payment_method("4000000000003220").await;
    let (_, pending) = app.confirm(token, secure_intent, &method).await;
    assert_eq!(pending["status"], "requires_action");
    localstripe
        .authenticate(
            secure_intent,
            secure["client_secret"].as_str().unwrap(),
            true,
        )
        .await;
    let completed: Value = app
        .get_json(
            &format!("/api/payments/{}", secure["payment_id"].as_str().unwrap()),
            Some(token),
        )
        .await;
    assert_eq!(completed["status"], "succeeded");

    // A partial refund.
    let refunded: Value = app
        .post_json(
            &format!(
                "/api/payments/{}/refund",
                paid["payment_id"].as_str().unwrap()
            ),
            &json!({"amount": 500}),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refunded["status"], "partially_refunded");
    assert_eq!(refunded["refunded_amount"], 500);

    // The history lists them, newest first.
    let history: Value = app.get_json("/api/payments/history", Some(token)).await;
    let statuses: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["succeeded", "failed", "partially_refunded"]);

    // Raw card numbers never go to Stripe.
    let raw = app
        .post_json(
            "/api/payments/confirm",
            &json!({"payment_intent_id": declined["payment_intent_id"], "payment_method": "4242424242424242"}),
            Some(token),
        )
        .await;
    let error = assert_error(raw, StatusCode::UNPROCESSABLE_ENTITY, "validation_error").await;
    assert_eq!(error["error"]["field"], "payment_method");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_that_changes_nothing() {
    // Nothing listens on this port: every attempt fails to connect, retries included.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &format!("http://127.0.0.1:{port}")),
    ])
    .await;
    let response = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "down@example.com", "password": "correct horse", "name": "Down"}),
            None,
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_GATEWAY, "payment_provider_error").await;
    assert!(!body.to_string().contains(LOCALSTRIPE_KEY));
    assert!(!body.to_string().contains("127.0.0.1"));
    assert_eq!(app.event_count().await, 0);
}
