//! Measures webhook ingest on this machine: signed Stripe events posted at 64 concurrent
//! connections to a billstream on loopback with a fresh database; reports acknowledged events/s,
//! latency percentiles, and the time until every event is applied to the projections.
//!
//! `cargo run --release --example webhook_ingest [EVENTS]` (default 4000). Honours
//! `DATABASE_SYNCHRONOUS` (default full).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use billstream::app::Application;
use billstream::config::Config;
use billstream::webhook_signature::signature_header;
use futures::StreamExt;
use serde_json::json;

const SECRET: &str = "whsec_ingest_measurement";
const CONNECTIONS: usize = 64;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args().nth(1).map_or(Ok(4_000), |n| n.parse())?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ingest.db");
    let synchronous = std::env::var("DATABASE_SYNCHRONOUS").unwrap_or_else(|_| "full".into());
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", format!("sqlite://{}", db.display())),
        ("BIND_ADDR", "127.0.0.1:0".into()),
        ("BCRYPT_COST", "4".into()),
        ("JWT_SECRET", "ingest-measurement-secret-0123456789".into()),
        ("STRIPE_WEBHOOK_SECRET", SECRET.into()),
        ("DATABASE_SYNCHRONOUS", synchronous.clone()),
        // The sandbox's own deliveries go nowhere: only the measured events reach the endpoint.
        ("SANDBOX_WEBHOOK_URL", "http://127.0.0.1:9/".into()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned())?;
    let app = Application::build(config).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let session: serde_json::Value = client
        .post(format!("{base}/api/auth/register"))
        .json(
            &json!({"email": "ingest@example.com", "password": "correct horse", "name": "Ingest"}),
        )
        .send()
        .await?
        .json()
        .await?;
    let customer = session["customer"]["stripe_customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Events for PaymentIntents born in Stripe: each object gets a success, then a refund.
    let now = chrono::Utc::now().timestamp();
    let bodies: Vec<String> = (0..events)
        .map(|i| {
            let object = i / 2;
            let pi = format!("pi_ingest{object:06}");
            let (kind, data) = if i % 2 == 0 {
                ("payment_intent.succeeded", json!({"id": pi, "object": "payment_intent",
                    "amount": 1000, "amount_received": 1000, "currency": "eur", "customer": customer,
                    "status": "succeeded", "created": now, "metadata": {}}))
            } else {
                ("charge.refunded", json!({"id": format!("ch_{object}"), "object": "charge",
                    "amount": 1000, "amount_captured": 1000, "amount_refunded": 100, "customer": customer,
                    "payment_intent": pi, "refunds": {"data": [{"id": format!("re_{object}"), "amount": 100}]}}))
            };
            json!({"id": format!("evt_ingest{i:07}"), "object": "event", "type": kind,
                   "created": now + (i % 2) as i64, "livemode": false, "data": {"object": data}})
            .to_string()
        })
        .collect();

    let url = format!("{base}/api/webhooks/stripe");
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(bodies.iter())
        .map(|body| {
            let (client, url) = (&client, &url);
            async move {
                let sent = Instant::now();
                let header =
                    signature_header(SECRET, chrono::Utc::now().timestamp(), body.as_bytes());
                let response = client
                    .post(url)
                    .header("Content-Type", "application/json")
                    .header("Stripe-Signature", header)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("delivered");
                assert!(response.status().is_success(), "{}", response.status());
                sent.elapsed()
            }
        })
        .buffer_unordered(CONNECTIONS)
        .collect()
        .await;
    let acknowledged = started.elapsed();

    let pool =
        billstream::db::connect(&Config::from_lookup(|name| vars.get(name).cloned())?).await?;
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'")
                .fetch_one(&pool)
                .await?;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let projector = projections::Projector::with_all_projections(pool.clone());
    while !projector.is_caught_up().await? {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied = started.elapsed();

    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("webhook ingest, {events} signed events, {CONNECTIONS} connections, synchronous={synchronous}");
    println!(
        "  acknowledged: {:.0} events/s ({:.2} s), p50 {:.1} ms, p99 {:.1} ms",
        events as f64 / acknowledged.as_secs_f64(),
        acknowledged.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
    );
    println!(
        "  all applied to the projections after {:.2} s ({:.0} events/s end to end)",
        applied.as_secs_f64(),
        events as f64 / applied.as_secs_f64()
    );
    Ok(())
}
