//! Health, readiness, configuration at start-up.

use billstream::app::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, test_config};

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn ready_answers_once_projections_have_caught_up() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let response = app.get("/ready", None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn ready_is_503_while_projections_lag() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    // Let the sandbox's webhooks for the registration land first: every write the service
    // commits brings the views up to date in its own transaction, and would end the lag early.
    for _ in 0..100 {
        let (undelivered, pending): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sandbox_webhook_outbox WHERE delivered_at IS NULL),
                    (SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending')",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if undelivered == 0 && pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Pretend the projection's transaction never committed (a crash between the append and
    // the projection update): rows and checkpoint are both behind.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("DELETE FROM customer_profiles")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE projection_checkpoints SET position = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut statuses = vec![];
    statuses.push(app.get("/ready", None).await.status());
    // The projector's poll then catches up on its own.
    for _ in 0..50 {
        let status = app.get("/ready", None).await.status();
        statuses.push(status);
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(statuses.first(), Some(&StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(statuses.last(), Some(&StatusCode::OK));
}

#[tokio::test]
async fn a_live_stripe_key_without_a_strong_jwt_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = |name: &str| match name {
        "STRIPE_SECRET_KEY" => Some("sk_live_placeholder".to_owned()),
        "JWT_SECRET" => Some("too-short".to_owned()),
        _ => None,
    };
    let error = billstream::config::Config::from_lookup(lookup).unwrap_err();
    assert!(error.to_string().contains("JWT_SECRET"));
    drop(dir);
}

#[tokio::test]
async fn without_a_jwt_secret_the_sandbox_starts_with_a_random_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir.path().join("db.sqlite"), &[]);
    config.jwt_secret = None;
    let app = Application::build(config).await;
    assert!(app.is_ok());
}

#[tokio::test]
async fn the_plan_catalog_is_public() {
    let app = spawn_app().await;
    let plans = app.get_json("/api/plans", None).await;
    let particulier = &plans[0];
    assert_eq!(
        particulier,
        &json!({
            "id": "particulier", "name": "Particulier", "amount": 990, "currency": "eur",
            "interval": "month", "trial_days": 14, "features": particulier["features"].clone(),
        })
    );
    assert!(!particulier["features"].as_array().unwrap().is_empty());
    assert_eq!(plans[1]["id"], "professionnel");
    assert_eq!(plans[1]["amount"], 2990);
}

#[tokio::test]
async fn a_broken_plans_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans.toml");
    std::fs::write(&plans, "[[plans]]\nid = \"x\"\n").unwrap();
    let config = test_config(
        &dir.path().join("db.sqlite"),
        &[("PLANS_FILE", plans.to_str().unwrap())],
    );
    let error = Application::build(config).await.err().expect("refused");
    assert!(error.to_string().contains("plans.toml"), "{error}");
}
