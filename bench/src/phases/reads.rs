//! Reads: the first page of the payment history of a customer with many payments.

use std::time::Duration;

use anyhow::ensure;
use billstream_bench::api::register;
use billstream_bench::events;
use billstream_bench::load::{closed_loop, LoadReport};
use billstream_bench::profile::Profile;
use billstream_bench::service::ServiceSpec;
use serde_json::Value;

use super::wait_until_applied;
use crate::sizes::{Sizes, CONNECTIONS};

/// Gives a customer `history_payments` payments, then reads their history's first page.
pub async fn history_reads(
    client: &reqwest::Client,
    base: &str,
    spec: &ServiceSpec,
    sizes: &Sizes,
    profile: impl Fn(&str) -> Option<Profile>,
) -> anyhow::Result<(LoadReport, Option<Profile>)> {
    let reader = register(client, base, "history@example.com").await?;
    let now = chrono::Utc::now().timestamp();
    let seeded = closed_loop(CONNECTIONS, sizes.history_payments, |i| {
        events::deliver(
            client,
            base,
            events::payment_succeeded(
                &format!("evt_history{i:06}"),
                &format!("pi_history{i:06}"),
                &reader.stripe_customer_id,
                500 + i as i64,
                now,
            ),
        )
    })
    .await;
    ensure!(seeded.failed == 0, "seeding the history failed");
    wait_until_applied(spec, Duration::from_secs(300)).await?;
    let url = format!("{base}/api/payments/history");
    let first: Value = client
        .get(&url)
        .bearer_auth(&reader.token)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        first["data"]
            .as_array()
            .is_some_and(|page| !page.is_empty()),
        "the history is empty: {first}"
    );
    let running = profile("reads");
    let report = closed_loop(CONNECTIONS, sizes.reads, |_| {
        let (url, token) = (&url, &reader.token);
        async move {
            matches!(client.get(url).bearer_auth(token).send().await, Ok(r) if r.status().is_success())
        }
    })
    .await;
    Ok((report, running))
}
