//! Commands: create-intent then confirm on the sandbox provider, from several clients at once
//! or from one alone, with the latency of every single command kept.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use billstream_bench::api::register;
use billstream_bench::load::{closed_loop, LoadReport};
use serde_json::{json, Value};

/// Create-intent then confirm, `pairs` times at `connections` connections over up to 8
/// customers. Returns the
/// pairs and each single command's latency.
pub async fn create_and_confirm(
    client: &reqwest::Client,
    base: &str,
    connections: usize,
    pairs: usize,
    name: &str,
) -> anyhow::Result<(LoadReport, Vec<Duration>)> {
    let mut customers = Vec::new();
    for i in 0..connections.min(8) {
        customers.push(register(client, base, &format!("{name}{i}@example.com")).await?);
    }
    let singles = Arc::new(Mutex::new(Vec::with_capacity(pairs * 2)));
    let report = closed_loop(connections, pairs, |i| {
        let customer = &customers[i % customers.len()];
        let singles = singles.clone();
        async move {
            let sent = Instant::now();
            let Ok(created) = client
                .post(format!("{base}/api/payments/create-intent"))
                .bearer_auth(&customer.token)
                .json(&json!({"amount": 1999, "currency": "eur", "description": "bench"}))
                .send()
                .await
            else {
                return false;
            };
            if created.status() != reqwest::StatusCode::CREATED {
                return false;
            }
            let Ok(created) = created.json::<Value>().await else {
                return false;
            };
            let between = Instant::now();
            let Ok(confirmed) = client
                .post(format!("{base}/api/payments/confirm"))
                .bearer_auth(&customer.token)
                .json(&json!({"payment_intent_id": created["payment_intent_id"], "payment_method": "pm_card_visa"}))
                .send()
                .await
            else {
                return false;
            };
            let ok = confirmed.status().is_success()
                && confirmed.json::<Value>().await.is_ok_and(|body| body["status"] == "succeeded");
            let mut singles = singles.lock().expect("not poisoned");
            singles.push(between.duration_since(sent));
            singles.push(between.elapsed());
            ok
        }
    })
    .await;
    let mut singles = Arc::try_unwrap(singles)
        .expect("load finished")
        .into_inner()
        .expect("not poisoned");
    singles.sort();
    Ok((report, singles))
}
