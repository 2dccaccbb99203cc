//! The sandbox delivers a signed Stripe-format event for every state change, from a durable
//! outbox, retrying until the endpoint answers 2xx.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use billstream::provider::stripe::signature::sign;
use serde_json::Value;

use crate::helpers::spawn_app_with;

#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<(String, Value)>>>,
}

/// A webhook endpoint that refuses its first delivery with a 500, then accepts.
async fn start_sink() -> (String, Sink) {
    let sink = Sink::default();
    async fn receive(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let signature = headers["stripe-signature"].to_str().unwrap().to_owned();
        let event: Value = serde_json::from_slice(&body).unwrap();
        let mut received = sink.received.lock().unwrap();
        received.push((signature, event));
        if received.len() == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let router = Router::new()
        .route("/hook", post(receive))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, sink)
}

#[tokio::test]
async fn every_change_is_delivered_signed_and_retried_until_acknowledged() {
    let (url, sink) = start_sink().await;
    let secret = "whsec_sandbox_test_secret";
    let app = spawn_app_with(&[
        ("SANDBOX_WEBHOOK_URL", &url),
        ("STRIPE_WEBHOOK_SECRET", secret),
    ])
    .await;
    let token = app.token_for("hooks@example.com").await;
    let created = app.create_intent(&token, 1_234, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    app.confirm(&token, intent, "pm_card_visa").await;

    let wanted = [
        "customer.created",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ];
    let redelivered = |received: &[(String, Value)]| {
        received
            .iter()
            .skip(1)
            .any(|(_, event)| event["id"] == received[0].1["id"])
    };
    let mut types = vec![];
    for _ in 0..100 {
        let received = sink.received.lock().unwrap().clone();
        types = received
            .iter()
            .map(|(_, event)| event["type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        if wanted.iter().all(|w| types.iter().any(|t| t == w)) && redelivered(&received) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in wanted {
        assert!(types.iter().any(|t| t == w), "{w} not delivered: {types:?}");
    }

    let received = sink.received.lock().unwrap().clone();
    // The refused first delivery came again, with the same event id.
    assert!(redelivered(&received));
    for (signature, event) in &received {
        let (t, v1) = signature.split_once(',').unwrap();
        let timestamp: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
        assert!(v1.starts_with("v1=") && v1.len() == 3 + 64, "{signature}");
        assert!(timestamp > 1_700_000_000);
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event["object"], "event");
        assert_eq!(event["livemode"], false);
        assert!(event["created"].as_i64().is_some());
    }
    let succeeded = received
        .iter()
        .find(|(_, event)| event["type"] == "payment_intent.succeeded")
        .unwrap();
    let object = &succeeded.1["data"]["object"];
    assert_eq!(object["object"], "payment_intent");
    assert_eq!(object["id"], intent);
    assert_eq!(object["amount"], 1_234);
    assert_eq!(object["status"], "succeeded");
    assert_eq!(
        object["metadata"]["billstream_payment_id"],
        created["payment_id"]
    );
}

#[tokio::test]
async fn deliveries_are_signed_with_the_configured_secret() {
    // A sink that checks the signature over the exact bytes it received.
    let secret = "whsec_exact_bytes";
    let verified = Arc::new(Mutex::new(Vec::<bool>::new()));
    let state = (verified.clone(), secret.to_owned());
    async fn receive(
        State((verified, secret)): State<(Arc<Mutex<Vec<bool>>>, String)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let header = headers["stripe-signature"].to_str().unwrap();
        let (t, v1) = header.split_once(',').unwrap();
        let timestamp: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
        let expected = hex::encode(sign(&secret, timestamp, &body));
        verified
            .lock()
            .unwrap()
            .push(v1.strip_prefix("v1=") == Some(expected.as_str()));
        StatusCode::OK
    }
    let router = Router::new()
        .route("/hook", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let app = spawn_app_with(&[
        ("SANDBOX_WEBHOOK_URL", &url),
        ("STRIPE_WEBHOOK_SECRET", secret),
    ])
    .await;
    app.token_for("signed@example.com").await;
    for _ in 0..50 {
        if !verified.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verified = verified.lock().unwrap().clone();
    assert!(!verified.is_empty(), "nothing delivered");
    assert!(verified.iter().all(|ok| *ok), "{verified:?}");
}

#[tokio::test]
async fn with_deliveries_off_the_sandbox_keeps_its_events_and_sends_none() {
    let app = spawn_app_with(&[("SANDBOX_WEBHOOK_URL", "off")]).await;
    let token = app.token_for("quiet@example.com").await;
    let created = app.create_intent(&token, 1_234, "eur").await;
    let intent = created["payment_intent_id"].as_str().unwrap();
    app.confirm(&token, intent, "pm_card_visa").await;
    // Longer than a delivery takes when it is on (the test above sees them within a second).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (queued, undelivered, attempted): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE delivered_at IS NULL),
                COUNT(*) FILTER (WHERE attempts > 0)
           FROM sandbox_webhook_outbox",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(queued >= 4, "{queued} events queued");
    assert_eq!(undelivered, queued);
    assert_eq!(attempted, 0);
    let received: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(received, 0);
    // The payment itself is unaffected: the command recorded it.
    let status = app
        .get_json(
            &format!("/api/payments/{}", created["payment_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(status["status"], "succeeded", "{status}");
}
