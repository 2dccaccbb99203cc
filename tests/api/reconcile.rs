//! Repair from the provider: a webhook lost on the way (acknowledged by a proxy in front of
//! billstream that dropped it, as a misconfigured load balancer would) is found in the
//! provider's event list by `billstream reconcile` and applied exactly once; a dry run only
//! reports; the runs are listed at `GET /api/admin/reconciliations`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{json, Value};

use crate::helpers::{billstream, spawn_app_with, TestApp};

pub(crate) const OPERATOR: &str = "operator-token-for-reconcile-tests";
const SECRET: &str = "whsec_reconcile_tests";
/// The event type whose first delivery the proxy loses.
const LOST_TYPE: &str = "payment_intent.succeeded";

/// A proxy in front of the webhook endpoint that acknowledges the first `LOST_TYPE` event and
/// drops it, and forwards everything else.
#[derive(Clone, Default)]
struct LossyProxy {
    target: Arc<OnceLock<String>>,
    dropped: Arc<Mutex<Option<String>>>,
}

async fn relay(State(proxy): State<LossyProxy>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    if event["type"] == LOST_TYPE {
        let mut dropped = proxy.dropped.lock().unwrap();
        if dropped.is_none() {
            *dropped = event["id"].as_str().map(str::to_owned);
            return StatusCode::OK;
        }
    }
    let Some(target) = proxy.target.get() else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let mut request = reqwest::Client::new()
        .post(target)
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = headers.get("Stripe-Signature") {
        request = request.header("Stripe-Signature", signature.as_bytes());
    }
    match request.send().await {
        Ok(response) => StatusCode::from_u16(response.status().as_u16()).unwrap(),
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

/// Starts the proxy on a loopback port; returns it and its URL.
async fn start_proxy() -> (LossyProxy, String) {
    let proxy = LossyProxy::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/", post(relay))
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (proxy, url)
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Whether the webhook inbox holds Stripe event `event_id`.
async fn in_inbox(app: &TestApp, event_id: &str) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_inbox WHERE event_id = ?")
        .bind(event_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        == 1
}

/// The `PaymentSucceeded` events of the payment, with the Stripe event that caused each.
async fn successes(app: &TestApp, payment_id: &str) -> Vec<Option<String>> {
    let metadata: Vec<String> = sqlx::query_scalar(
        "SELECT metadata FROM events WHERE aggregate_type = 'Payment' AND aggregate_id = ?
            AND event_type = 'PaymentSucceeded'",
    )
    .bind(payment_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    metadata
        .iter()
        .map(|raw| {
            let value: Value = serde_json::from_str(raw).unwrap();
            value["stripe_event_id"].as_str().map(str::to_owned)
        })
        .collect()
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Runs `billstream reconcile` with `args`; returns its output, checking it succeeded. The
/// test's runtime serves the application meanwhile (its inbox worker applies what the command
/// feeds).
pub(crate) async fn reconcile(app: &TestApp, args: &[&str]) -> String {
    let mut all = vec!["reconcile"];
    all.extend_from_slice(args);
    let output = billstream(&app.db_path, &all).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The number on the summary line that starts with `label`.
fn figure(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no {label} line in:\n{summary}"))
}

/// A server behind the lossy proxy (with `extra` configuration), where a 3-D Secure payment
/// succeeded but the webhook saying so was lost: the server, the payment's id and the lost
/// event's id, once every other delivery went through.
pub(crate) async fn a_lost_success(extra: &[(&str, &str)]) -> (TestApp, String, String) {
    let (proxy, proxy_url) = start_proxy().await;
    let mut config = vec![
        ("OPERATOR_TOKEN", OPERATOR),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("SANDBOX_WEBHOOK_URL", proxy_url.as_str()),
    ];
    config.extend_from_slice(extra);
    let app = spawn_app_with(&config).await;
    proxy.target.set(app.url("/api/webhooks/stripe")).unwrap();

    // Only the webhook tells billstream that the customer passed the challenge.
    let token = app.token_for("lost@example.com").await;
    let created = app.create_intent(&token, 4_200, "eur").await;
    let payment_id = created["payment_id"].as_str().unwrap().to_owned();
    let intent = created["payment_intent_id"].as_str().unwrap();
    let (_, pending) = app
        .confirm(&token, intent, "pm_card_authenticationRequired")
        .await;
    assert_eq!(pending["status"], "requires_action");
    assert_eq!(
        app.authenticate(intent, true).await,
        reqwest::StatusCode::OK
    );

    // The proxy acknowledged the success and lost it; every other event went through.
    wait_for("the lost delivery", async || {
        proxy.dropped.lock().unwrap().is_some()
    })
    .await;
    let lost = proxy.dropped.lock().unwrap().clone().unwrap();
    let undelivered = "SELECT COUNT(*) FROM sandbox_webhook_outbox WHERE delivered_at IS NULL";
    wait_for("every other delivery", async || {
        scalar(&app, undelivered).await == 0
    })
    .await;
    assert!(!in_inbox(&app, &lost).await);
    assert!(successes(&app, &payment_id).await.is_empty());
    (app, payment_id, lost)
}

/// The recorded runs, oldest first.
pub(crate) async fn runs(app: &TestApp) -> Vec<Value> {
    let runs: Value = app
        .get("/api/admin/reconciliations", Some(OPERATOR))
        .await
        .json()
        .await
        .unwrap();
    runs["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_webhook_lost_on_the_way_is_recovered_by_reconcile_exactly_once() {
    let (app, payment_id, lost) = a_lost_success(&[]).await;

    // A dry run reports the lost event and changes nothing.
    // (E-mails being sent meanwhile are the mailer's business, not the run's: not counted.)
    let events_before = app.event_count().await;
    let dry = reconcile(&app, &["--dry-run"]).await;
    assert_eq!(figure(&dry, "missing"), 1, "{dry}");
    assert!(dry.contains(&lost), "{dry}");
    assert!(dry.contains("Nothing was changed"), "{dry}");
    assert!(!in_inbox(&app, &lost).await);
    assert_eq!(app.event_count().await, events_before);

    // A run feeds it into the inbox; the service's worker applies it as a delivery.
    let repaired = reconcile(&app, &["--since", "1h", "--wait", "15"]).await;
    assert_eq!(figure(&repaired, "missing"), 1, "{repaired}");
    assert_eq!(figure(&repaired, "repaired"), 1, "{repaired}");
    assert!(repaired.contains(&format!("{lost}  applied")), "{repaired}");
    wait_for("the payment's success", async || {
        !successes(&app, &payment_id).await.is_empty()
    })
    .await;
    assert_eq!(successes(&app, &payment_id).await, vec![Some(lost.clone())]);

    // Run again: nothing is missing any more, nothing is applied twice.
    let again = reconcile(&app, &["--since", "1h"]).await;
    assert_eq!(figure(&again, "missing"), 0, "{again}");
    assert_eq!(figure(&again, "repaired"), 0, "{again}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(successes(&app, &payment_id).await, vec![Some(lost.clone())]);
    assert!(in_inbox(&app, &lost).await);

    // Both runs are in the log, the first with its repair; the dry run is not.
    let runs = runs(&app).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0]["missing"], 1);
    assert_eq!(
        runs[0]["repaired"],
        json!([{"stripe_event_id": lost, "type": LOST_TYPE}])
    );
    assert_eq!(runs[1]["missing"], 0);
    assert_eq!(runs[1]["repaired"], json!([]));
    assert!(runs[1]["listed"].as_u64().unwrap() >= runs[0]["listed"].as_u64().unwrap());
}

#[tokio::test]
async fn the_scheduled_run_recovers_a_lost_webhook_without_an_operator() {
    let (app, payment_id, lost) = a_lost_success(&[("RECONCILE_INTERVAL", "10s")]).await;
    // The first run comes one interval after the start.
    for _ in 0..250 {
        if !successes(&app, &payment_id).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(successes(&app, &payment_id).await, vec![Some(lost.clone())]);
    let runs = runs(&app).await;
    assert_eq!(
        runs[0]["repaired"],
        json!([{"stripe_event_id": lost, "type": LOST_TYPE}])
    );
}
