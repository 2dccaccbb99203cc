//! Payments on the sandbox: create, confirm with the test cards, 3-D Secure, racing confirms,
//! idempotency keys. Refunds are in `payment_refunds`, the history in `payment_history`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn customer(app: &TestApp) -> String {
    app.token_for("payer@example.com").await
}

#[tokio::test]
async fn create_intent_returns_a_stripe_shaped_intent() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 2_000, "eur").await;
    assert!(created["payment_intent_id"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    assert!(created["client_secret"]
        .as_str()
        .unwrap()
        .starts_with(&format!(
            "{}_secret_",
            created["payment_intent_id"].as_str().unwrap()
        )));
    assert_eq!(created["status"], "requires_payment_method");
    assert_eq!(created["amount"], 2_000);
    assert_eq!(created["currency"], "eur");
    assert_eq!(created["payment_id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn zero_decimal_currencies_take_whole_units() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 500, "jpy").await;
    let (_, confirmed) = app
        .confirm(
            &token,
            created["payment_intent_id"].as_str().unwrap(),
            "pm_card_visa",
        )
        .await;
    assert_eq!(confirmed["status"], "succeeded");
    let payment: Value = app
        .get_json(
            &format!("/api/payments/{}", created["payment_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(
        (payment["amount"].as_i64(), payment["currency"].as_str()),
        (Some(500), Some("jpy"))
    );
}

#[tokio::test]
async fn invalid_amounts_and_currencies_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for (body, field) in [
        (json!({"amount": 0, "currency": "eur"}), "amount"),
        (json!({"amount": 100_000_000, "currency": "eur"}), "amount"),
        (json!({"amount": -5, "currency": "eur"}), "amount"),
        (json!({"amount": 12.5, "currency": "eur"}), "amount"),
        (json!({"amount": "100", "currency": "eur"}), "amount"),
        (json!({"amount": 100, "currency": "EUR"}), "currency"),
        (json!({"amount": 100, "currency": "xyz"}), "currency"),
        (json!({"currency": "eur"}), "amount"),
        (
            json!({"amount": 100, "currency": "eur", "metadata": {"billstream_x": "1"}}),
            "metadata.billstream_x",
        ),
    ] {
        let response = app
            .post_json("/api/payments/create-intent", &body, Some(&token))
            .await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        )
        .await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let payments: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE aggregate_type = 'Payment'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(payments, 0);
}

#[tokio::test]
async fn payments_need_a_token() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/payments/create-intent",
            &json!({"amount": 100, "currency": "eur"}),
            None,
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_visa_card_succeeds_by_id_or_number() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for method in ["pm_card_visa", "4242 4242 4242 4242"] {
        let created = app.create_intent(&token, 1_500, "eur").await;
        let (status, body) = app
            .confirm(
                &token,
                created["payment_intent_id"].as_str().unwrap(),
                method,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "succeeded", "{method}");
        assert_eq!(body["payment_id"], created["payment_id"]);
        assert!(body.get("failure_code").is_none());
    }
}

#[tokio::test]
async fn declines_report_their_decline_code() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for (method, code) in [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("4000000000000002", "generic_decline"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
        ("4000000000009995", "insufficient_funds"),
    ] {
        let created = app.create_intent(&token, 1_500, "eur").await;
        let (status, body) = app
            .confirm(
                &token,
                created["payment_intent_id"].as_str().unwrap(),
                method,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "failed", "{method}");
        assert_eq!(body["failure_code"], code, "{method}");
        assert!(!body["failure_message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_failed_payment_can_be_retried_with_another_card() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 1_500, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    let (_, failed) = app.confirm(&token, intent, "pm_card_chargeDeclined").await;
    assert_eq!(failed["status"], "failed");
    let (_, succeeded) = app.confirm(&token, intent, "pm_card_visa").await;
    assert_eq!(succeeded["status"], "succeeded");
}

#[tokio::test]
async fn an_unknown_payment_method_is_a_clear_422_that_never_echoes_a_card_number() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 1_500, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    for method in ["pm_card_nonsense", "4111 1111 1111 1111"] {
        let response = app
            .post_json(
                "/api/payments/confirm",
                &json!({"payment_intent_id": intent, "payment_method": method}),
                Some(&token),
            )
            .await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        )
        .await;
        assert_eq!(error["error"]["field"], "payment_method");
        assert!(!error.to_string().contains("4111"), "{error}");
    }
    let payment: Value = app
        .get_json(
            &format!("/api/payments/{}", created["payment_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(payment["status"], "requires_payment_method");
}

#[tokio::test]
async fn three_d_secure_completes_after_authentication() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 4_200, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    let (_, pending) = app
        .confirm(&token, intent, "pm_card_authenticationRequired")
        .await;
    assert_eq!(pending["status"], "requires_action");
    assert_eq!(pending["next_action"]["type"], "use_stripe_sdk");

    assert_eq!(app.authenticate(intent, true).await, StatusCode::OK);

    let payment: Value = app
        .get_json(
            &format!("/api/payments/{}", created["payment_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(payment["status"], "succeeded");
    assert!(payment.get("next_action").is_none());
}

#[tokio::test]
async fn a_failed_three_d_secure_challenge_fails_the_payment() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 4_200, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    app.confirm(&token, intent, "4000000000003220").await;
    app.authenticate(intent, false).await;
    let payment: Value = app
        .get_json(
            &format!("/api/payments/{}", created["payment_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(payment["status"], "failed");
    assert_eq!(
        payment["failure_code"],
        "payment_intent_authentication_failure"
    );
}

#[tokio::test]
async fn confirming_a_succeeded_payment_is_a_409() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 1_000, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    app.confirm(&token, intent, "pm_card_visa").await;
    let response = app
        .post_json(
            "/api/payments/confirm",
            &json!({"payment_intent_id": intent, "payment_method": "pm_card_visa"}),
            Some(&token),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "invalid_state").await;
}

#[tokio::test]
async fn racing_confirms_on_one_intent_charge_once() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let created = app.create_intent(&token, 7_700, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap().to_owned();
    let confirms = (0..10).map(|_| {
        let (app, token, intent) = (&app, &token, &intent);
        async move { app.confirm(token, intent, "pm_card_visa").await }
    });
    let outcomes = futures::future::join_all(confirms).await;
    for (status, body) in &outcomes {
        match *status {
            StatusCode::OK => assert_eq!(body["status"], "succeeded"),
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let charges: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_charges WHERE payment_intent = ?")
            .bind(&intent)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(charges, 1, "one charge at the provider");
    let successes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentSucceeded' AND aggregate_id = ?",
    )
    .bind(created["payment_id"].as_str().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(successes, 1, "one success in the log");
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_returns_the_same_payment() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let body = json!({"amount": 990, "currency": "eur", "metadata": {"order": "A-1"}});
    let send = || {
        app.client
            .post(app.url("/api/payments/create-intent"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "order-A-1")
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(send(), send());
    let first: Value = first.unwrap().json().await.unwrap();
    let second: Value = second.unwrap().json().await.unwrap();
    let third: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first, third);
    let created: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'PaymentCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(created, 1);
    let intents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_payment_intents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(intents, 1);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let send = |amount: i64| {
        app.client
            .post(app.url("/api/payments/create-intent"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "order-B-2")
            .json(&json!({"amount": amount, "currency": "eur"}))
            .send()
    };
    assert_eq!(send(1_000).await.unwrap().status(), StatusCode::CREATED);
    assert_error(
        send(2_000).await.unwrap(),
        StatusCode::CONFLICT,
        "idempotency_key_reused",
    )
    .await;
}
