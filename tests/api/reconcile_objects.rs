//! Reconciliation's object pass on the sandbox: an object that moved at the provider while
//! billstream never heard of it — its event lost and outside the window compared, or no longer
//! kept by the provider — is brought forward by `billstream reconcile` through its aggregate:
//! the view shows the provider's state, the log holds `ObjectRepaired`, a second run repairs
//! nothing, and a dry run changes nothing.

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::reconcile::{a_lost_success, reconcile, runs, OPERATOR};

const DAY: i64 = 86_400;

/// The status of a row of view `table` keyed `key = id`.
async fn view_status(app: &TestApp, table: &str, key: &str, id: &str) -> String {
    sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE {key} = ?"))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The `ObjectRepaired` events in the log, as stored.
async fn object_repairs(app: &TestApp) -> Vec<Value> {
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE aggregate_type = 'Reconciliation'
            AND event_type = 'ObjectRepaired' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    payloads
        .iter()
        .map(|payload| serde_json::from_str::<Value>(payload).unwrap()["ObjectRepaired"].clone())
        .collect()
}

/// The object pass's figure on the line starting with `label` (after its heading).
fn object_figure(summary: &str, label: &str) -> u64 {
    summary
        .split("can still change:")
        .nth(1)
        .and_then(|objects| {
            objects
                .lines()
                .find_map(|line| line.trim().strip_prefix(label))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no object {label} line in:\n{summary}"))
}

async fn wait_for_status(app: &TestApp, table: &str, key: &str, id: &str, status: &str) {
    for _ in 0..150 {
        if view_status(app, table, key, id).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = view_status(app, table, key, id).await;
    panic!("{table} {id} never became {status}; still {last}");
}

#[tokio::test]
async fn a_payment_authenticated_while_billstream_missed_it_is_repaired_from_the_provider_object() {
    let (app, payment_id, lost) = a_lost_success(&[]).await;
    // The lost event is older than the window compared: only the object can tell.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let since = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    assert_eq!(
        view_status(&app, "payments", "payment_id", &payment_id).await,
        "requires_action"
    );

    // A dry run reports the payment behind and changes nothing.
    let events_before = app.event_count().await;
    let dry = reconcile(&app, &["--since", &since, "--dry-run"]).await;
    assert!(!dry.contains(&lost), "{dry}");
    assert_eq!(object_figure(&dry, "behind"), 1, "{dry}");
    assert!(
        dry.contains(&format!("payment_intent {payment_id}"))
            && dry.contains("requires_action -> succeeded"),
        "{dry}"
    );
    assert_eq!(app.event_count().await, events_before);

    // A run brings it forward through the Payment aggregate; the view follows.
    let repaired = reconcile(&app, &["--since", &since]).await;
    assert_eq!(object_figure(&repaired, "repaired"), 1, "{repaired}");
    wait_for_status(&app, "payments", "payment_id", &payment_id, "succeeded").await;
    let succeeded: Vec<String> = sqlx::query_scalar(
        "SELECT metadata FROM events WHERE aggregate_type = 'Payment' AND aggregate_id = ?
            AND event_type = 'PaymentSucceeded'",
    )
    .bind(&payment_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(succeeded.len(), 1);
    let repairs = object_repairs(&app).await;
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["object"], "payment_intent");
    assert_eq!(repairs[0]["id"], payment_id.as_str());
    assert_eq!(repairs[0]["from_status"], "requires_action");
    assert_eq!(repairs[0]["to_status"], "succeeded");

    // Again: nothing is behind, nothing is recorded twice.
    let again = reconcile(&app, &["--since", &since]).await;
    assert_eq!(object_figure(&again, "behind"), 0, "{again}");
    assert_eq!(object_figure(&again, "repaired"), 0, "{again}");
    assert_eq!(object_repairs(&app).await.len(), 1);

    // The runs' API shows the repair with its counts.
    let runs = runs(&app).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0]["objects_differing"], 1);
    assert_eq!(
        runs[0]["objects_repaired"][0]["provider_id"],
        repairs[0]["provider_id"]
    );
    assert!(runs[0]["objects_checked"].as_u64().unwrap() >= 1);
    assert_eq!(runs[1]["objects_differing"], 0);
    assert_eq!(runs[1]["objects_repaired"], json!([]));
}

/// Starts an endpoint that acknowledges every webhook and drops it; returns its URL.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/", post(|| async { StatusCode::OK }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn a_subscription_whose_trial_ended_unheard_is_repaired_once_its_events_are_gone() {
    let sink = black_hole().await;
    let app = spawn_app_with(&[
        ("OPERATOR_TOKEN", OPERATOR),
        ("SANDBOX_WEBHOOK_URL", sink.as_str()),
    ])
    .await;
    let token = app.token_for("unheard@example.com").await;
    let created: Value = app
        .post_json(
            "/api/subscriptions",
            &json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "trialing", "{created}");
    let id = created["subscription_id"].as_str().unwrap().to_owned();

    // The trial ends at the provider; every webhook saying so is dropped, then expires from
    // the provider's event list (the sandbox's outbox stands in for Stripe's 30 days).
    let advanced = app
        .post_json(
            "/sandbox/clock/advance",
            &json!({"seconds": 14 * DAY + 3600}),
            None,
        )
        .await;
    assert_eq!(advanced.status(), reqwest::StatusCode::OK);
    let undelivered = "SELECT COUNT(*) FROM sandbox_webhook_outbox WHERE delivered_at IS NULL";
    for _ in 0..150 {
        let left: i64 = sqlx::query_scalar(undelivered)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sqlx::query("DELETE FROM sandbox_webhook_outbox")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        view_status(&app, "subscriptions", "subscription_id", &id).await,
        "trialing"
    );

    let dry = reconcile(&app, &["--dry-run"]).await;
    assert_eq!(object_figure(&dry, "behind"), 1, "{dry}");
    assert!(dry.contains("trialing -> active"), "{dry}");
    assert_eq!(
        view_status(&app, "subscriptions", "subscription_id", &id).await,
        "trialing"
    );

    let repaired = reconcile(&app, &[]).await;
    assert_eq!(object_figure(&repaired, "repaired"), 1, "{repaired}");
    wait_for_status(&app, "subscriptions", "subscription_id", &id, "active").await;
    let repairs = object_repairs(&app).await;
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["object"], "subscription");
    assert_eq!(repairs[0]["to_status"], "active");

    let again = reconcile(&app, &[]).await;
    assert_eq!(object_figure(&again, "repaired"), 0, "{again}");
    assert_eq!(object_repairs(&app).await.len(), 1);
}

#[tokio::test]
async fn against_localstripe_a_challenge_passed_unheard_is_repaired_from_the_intent() {
    let localstripe = crate::support::localstripe::LocalStripe::start().await;
    let key = crate::support::localstripe::LOCALSTRIPE_KEY;
    // No webhook is registered with localstripe: billstream hears nothing from it.
    let app = spawn_app_with(&[
        ("OPERATOR_TOKEN", OPERATOR),
        ("STRIPE_SECRET_KEY", key),
        ("STRIPE_API_BASE", &localstripe.url),
    ])
    .await;
    let token = app.token_for("localstripe-unheard@example.com").await;
    let secure = app.create_intent_without_description(&token, 4_200).await;
    let payment_id = secure["payment_id"].as_str().unwrap().to_owned();
    let intent = secure["payment_intent_id"].as_str().unwrap();
    let method = localstripe.card_payment_method("4000000000003220").await;
    let (_, pending) = app.confirm(&token, intent, &method).await;
    assert_eq!(pending["status"], "requires_action");
    localstripe
        .authenticate(intent, secure["client_secret"].as_str().unwrap(), true)
        .await;
    // Its `payment_intent.succeeded` falls before the window: only the intent can tell.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let since = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);

    let db_path = app.db_path.clone();
    let (api_base, since_arg) = (localstripe.url.clone(), since.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_billstream"))
            .args(["reconcile", "--since", &since_arg])
            .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
            .env("STRIPE_SECRET_KEY", key)
            .env("STRIPE_API_BASE", api_base)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(object_figure(&summary, "repaired"), 1, "{summary}");
    assert!(
        summary.contains(&format!(
            "payment_intent {payment_id} ({intent})  requires_action -> succeeded"
        )),
        "{summary}"
    );
    wait_for_status(&app, "payments", "payment_id", &payment_id, "succeeded").await;
    assert_eq!(object_repairs(&app).await.len(), 1);
}

#[tokio::test]
async fn an_invoice_paid_at_the_provider_unheard_is_repaired_once_its_events_are_gone() {
    let sink = black_hole().await;
    let app = spawn_app_with(&[
        ("OPERATOR_TOKEN", OPERATOR),
        ("SANDBOX_WEBHOOK_URL", sink.as_str()),
    ])
    .await;
    let token = app.token_for("invoice-unheard@example.com").await;
    let invoice = json!({
        "currency": "eur",
        "items": [{"description": "Audit", "quantity": 1, "unit_amount": 10_000, "tax_rate_bps": 2_000}],
        "due_days": 15
    });
    let draft: Value = app
        .post_json("/api/invoices/create", &invoice, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let id = draft["invoice_id"].as_str().unwrap().to_owned();
    let stripe_id = draft["stripe_invoice_id"].as_str().unwrap().to_owned();
    let open = app
        .post_json(
            &format!("/api/invoices/{id}/finalize"),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(open.status(), reqwest::StatusCode::OK);

    // Paid at the provider directly (as from its dashboard); the webhooks are dropped, then
    // expire from its event list.
    let provider = billstream::provider::sandbox::SandboxProvider::new(app.pool.clone());
    let paid = billstream::provider::PaymentProvider::pay_invoice(
        &provider,
        &stripe_id,
        Some("pm_card_visa"),
        "dashboard-pay",
    )
    .await
    .unwrap();
    assert_eq!(paid.status, "paid");
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query("DELETE FROM sandbox_webhook_outbox")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        view_status(&app, "invoices", "invoice_id", &id).await,
        "open"
    );

    let repaired = reconcile(&app, &[]).await;
    assert_eq!(object_figure(&repaired, "repaired"), 1, "{repaired}");
    assert!(repaired.contains("open -> paid"), "{repaired}");
    wait_for_status(&app, "invoices", "invoice_id", &id, "paid").await;
    let amount_paid: i64 =
        sqlx::query_scalar("SELECT amount_paid FROM invoices WHERE invoice_id = ?")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(amount_paid, 12_000);

    let again = reconcile(&app, &[]).await;
    assert_eq!(object_figure(&again, "behind"), 0, "{again}");
    assert_eq!(object_repairs(&app).await.len(), 1);
}

#[tokio::test]
async fn the_scheduled_run_brings_an_unheard_subscription_forward_without_an_operator() {
    let sink = black_hole().await;
    let app = spawn_app_with(&[
        ("OPERATOR_TOKEN", OPERATOR),
        ("SANDBOX_WEBHOOK_URL", sink.as_str()),
        ("RECONCILE_INTERVAL", "10s"),
    ])
    .await;
    let token = app.token_for("scheduled-unheard@example.com").await;
    let created: Value = app
        .post_json(
            "/api/subscriptions",
            &json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["subscription_id"].as_str().unwrap().to_owned();
    let advanced = app
        .post_json(
            "/sandbox/clock/advance",
            &json!({"seconds": 14 * DAY + 3600}),
            None,
        )
        .await;
    assert_eq!(advanced.status(), reqwest::StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query("DELETE FROM sandbox_webhook_outbox")
        .execute(&app.pool)
        .await
        .unwrap();
    // The first run comes one interval after the start. The run repairs the object first
    // and records itself (with its `ObjectRepaired`) after, so wait for both.
    for _ in 0..250 {
        if view_status(&app, "subscriptions", "subscription_id", &id).await == "active"
            && !object_repairs(&app).await.is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        view_status(&app, "subscriptions", "subscription_id", &id).await,
        "active"
    );
    let repairs = object_repairs(&app).await;
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["id"], id.as_str());
}
