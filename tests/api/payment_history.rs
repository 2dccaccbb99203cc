//! The payment history: newest first, cursor and status filter, each entry as the payment shows
//! on its own whatever its texts hold, bad parameters, the client configuration, and a replay
//! that rebuilds it identically.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn customer(app: &TestApp) -> String {
    app.token_for("payer@example.com").await
}

#[tokio::test]
async fn history_lists_newest_first_with_cursor_and_status_filter() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let mut ids = vec![];
    for i in 0..5 {
        let created = app.create_intent(&token, 100 + i, "eur").await;
        if i % 2 == 0 {
            app.confirm(
                &token,
                created["payment_intent_id"].as_str().unwrap(),
                "pm_card_visa",
            )
            .await;
        }
        ids.push(created["payment_id"].as_str().unwrap().to_owned());
    }
    ids.reverse();

    let first: Value = app
        .get_json("/api/payments/history?limit=2", Some(&token))
        .await;
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["payment_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page_ids(&first), ids[0..2]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_json(
            &format!("/api/payments/history?limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(page_ids(&second), ids[2..4]);
    let third: Value = app
        .get_json(
            &format!(
                "/api/payments/history?limit=2&cursor={}",
                second["next_cursor"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await;
    assert_eq!(page_ids(&third), ids[4..5]);
    assert_eq!(third["next_cursor"], Value::Null);

    let succeeded: Value = app
        .get_json("/api/payments/history?status=succeeded", Some(&token))
        .await;
    assert_eq!(succeeded["data"].as_array().unwrap().len(), 3);
    let item = &succeeded["data"][0];
    for key in [
        "payment_id",
        "payment_intent_id",
        "amount",
        "currency",
        "status",
        "description",
        "failure_code",
        "refunded_amount",
        "created_at",
        "updated_at",
    ] {
        assert!(item.get(key).is_some(), "{key} missing");
    }
}

#[tokio::test]
async fn each_history_entry_is_the_payment_as_shown_on_its_own_whatever_its_texts_hold() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    // Texts that JSON must escape, stored as they were sent.
    let metadata = json!({
        "note": "a \"quote\", a back\\slash, a tab\t, a bell\u{7} and a new\nline",
        "libellé": "€ 12,50 — reçu ✓ </script>",
    });
    let response = app
        .post_json(
            "/api/payments/create-intent",
            &json!({"amount": 1_250, "currency": "eur",
                    "description": "Commande « 42 » \"urgent\" \\ <b>", "metadata": metadata}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let paid: Value = response.json().await.unwrap();
    let (status, _) = app
        .confirm(
            &token,
            paid["payment_intent_id"].as_str().unwrap(),
            "pm_card_visa",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // One awaiting 3-D Secure: its next action is in the page too.
    let pending = app.create_intent(&token, 4_200, "eur").await;
    let (_, action) = app
        .confirm(
            &token,
            pending["payment_intent_id"].as_str().unwrap(),
            "pm_card_authenticationRequired",
        )
        .await;
    assert_eq!(action["status"], "requires_action");

    let page = app.get_json("/api/payments/history", Some(&token)).await;
    let entries = page["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(entries[1]["metadata"], metadata);
    assert_eq!(
        entries[1]["description"],
        "Commande « 42 » \"urgent\" \\ <b>"
    );
    assert_eq!(entries[0]["next_action"]["type"], "use_stripe_sdk");
    for entry in entries {
        let alone = app
            .get_json(
                &format!("/api/payments/{}", entry["payment_id"].as_str().unwrap()),
                Some(&token),
            )
            .await;
        assert_eq!(entry, &alone);
    }
    // A filter that matches nothing: an empty page, not an error.
    let none = app
        .get_json("/api/payments/history?status=canceled", Some(&token))
        .await;
    assert_eq!(none, json!({"data": [], "next_cursor": null}));
}

#[tokio::test]
async fn bad_history_parameters_are_refused() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("status=paid", "status"),
    ] {
        let response = app
            .get(&format!("/api/payments/history?{query}"), Some(&token))
            .await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        )
        .await;
        assert_eq!(error["error"]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn the_client_config_says_sandbox() {
    let app = spawn_app().await;
    let config: Value = app.get_json("/api/config", None).await;
    assert_eq!(config["mode"], "sandbox");
    assert!(config.get("stripe_publishable_key").is_some());
}

#[tokio::test]
async fn replay_rebuilds_payment_history_identically() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    for (amount, method) in [
        (1_000, "pm_card_visa"),
        (2_000, "pm_card_chargeDeclined"),
        (3_000, "pm_card_visa"),
    ] {
        let created = app.create_intent(&token, amount, "eur").await;
        app.confirm(
            &token,
            created["payment_intent_id"].as_str().unwrap(),
            method,
        )
        .await;
        if amount == 3_000 {
            app.post_json(
                &format!(
                    "/api/payments/{}/refund",
                    created["payment_id"].as_str().unwrap()
                ),
                &json!({"amount": 500}),
                Some(&token),
            )
            .await;
        }
    }
    let live = projections::Payments::all(&app.pool).await.unwrap();
    projections::Projector::with_all_projections(app.pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();
    assert_eq!(projections::Payments::all(&app.pool).await.unwrap(), live);
}
