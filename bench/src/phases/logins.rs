//! Logins beside webhooks: does bcrypt's CPU hunger slow the webhooks down?

use std::time::Instant;

use anyhow::ensure;
use billstream_bench::api::{Customer, PASSWORD};
use billstream_bench::events;
use billstream_bench::load::{open_loop, LoadReport};
use serde_json::json;

/// What the login run measured.
pub struct LoginFigures {
    pub login_rate: f64,
    pub webhook_rate: f64,
    pub without_logins: LoadReport,
    pub with_logins: LoadReport,
    pub logins: LoadReport,
}

/// Webhooks at a quarter of the measured ingest rate, open loop, alone and then with logins
/// arriving at twice what bcrypt can verify on this machine.
pub async fn logins_beside_webhooks(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    ingest_rate: f64,
    seconds: f64,
) -> anyhow::Result<LoginFigures> {
    let hash = bcrypt::hash(PASSWORD, 12)?;
    let started = Instant::now();
    for _ in 0..3 {
        bcrypt::verify(PASSWORD, &hash)?;
    }
    let per_hash = started.elapsed().as_secs_f64() / 3.0;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // billstream verifies on (cores - 1) threads, at least one.
    let capacity = cores.saturating_sub(1).max(1) as f64 / per_hash;
    let login_rate = 2.0 * capacity;
    let webhook_rate = (ingest_rate / 4.0).max(50.0);
    let webhook_total = (webhook_rate * seconds) as usize;
    let now = chrono::Utc::now().timestamp();
    let stripe_customer = customer.stripe_customer_id.clone();
    let webhooks = |round: &'static str| {
        let client = client.clone();
        let base = base.to_owned();
        let stripe_customer = stripe_customer.clone();
        move |i: usize| {
            let body = events::payment_succeeded(
                &format!("evt_{round}{i:07}"),
                &format!("pi_{round}{i:07}"),
                &stripe_customer,
                700,
                now,
            );
            let (client, base) = (client.clone(), base.clone());
            async move { events::deliver(&client, &base, body).await }
        }
    };
    let without_logins = open_loop(webhook_rate, webhook_total, webhooks("alone")).await;
    let login_total = (login_rate * seconds).ceil() as usize;
    let login = {
        let client = client.clone();
        let url = format!("{base}/api/auth/login");
        let email = customer.email.clone();
        move |_: usize| {
            let (client, url, email) = (client.clone(), url.clone(), email.clone());
            async move {
                matches!(client.post(&url).json(&json!({"email": email, "password": PASSWORD})).send().await,
                    Ok(r) if r.status().is_success())
            }
        }
    };
    let (with_logins, logins) = tokio::join!(
        open_loop(webhook_rate, webhook_total, webhooks("beside")),
        open_loop(login_rate, login_total, login)
    );
    ensure!(
        without_logins.failed == 0 && with_logins.failed == 0,
        "webhooks failed during the login run"
    );
    Ok(LoginFigures {
        login_rate,
        webhook_rate,
        without_logins,
        with_logins,
        logins,
    })
}
