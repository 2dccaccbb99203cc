//! Webhook ingest: signed Stripe events posted at 64 connections, then the wait until the
//! inbox worker has applied every one of them to the projections.

use std::time::{Duration, Instant};

use billstream_bench::api::Customer;
use billstream_bench::events;
use billstream_bench::load::{closed_loop, LoadReport};
use billstream_bench::service::ServiceSpec;

use super::wait_until_applied;
use crate::sizes::CONNECTIONS;

/// What the ingest measured.
pub struct Ingest {
    /// The acknowledgements.
    pub load: LoadReport,
    /// From the first event sent to every event applied.
    pub first_sent_to_applied: Duration,
    /// From the last acknowledgement to every event applied: how far the projections lag
    /// behind what Stripe has been told is stored.
    pub last_ack_to_applied: Duration,
}

/// Posts `count` signed events (a success then a partial refund per PaymentIntent).
pub async fn webhook_ingest(
    client: &reqwest::Client,
    base: &str,
    spec: &ServiceSpec,
    customer: &Customer,
    count: usize,
) -> anyhow::Result<Ingest> {
    let now = chrono::Utc::now().timestamp();
    let bodies: Vec<String> = (0..count)
        .map(|i| {
            let intent = format!("pi_ingest{:07}", i / 2);
            let id = format!("evt_ingest{i:08}");
            if i % 2 == 0 {
                events::payment_succeeded(&id, &intent, &customer.stripe_customer_id, 1000, now)
            } else {
                events::charge_refunded(
                    &id,
                    &intent,
                    &customer.stripe_customer_id,
                    1000,
                    &[100],
                    now + 1,
                )
            }
        })
        .collect();
    let started = Instant::now();
    let load = closed_loop(CONNECTIONS, count, |i| {
        events::deliver(client, base, bodies[i].clone())
    })
    .await;
    // The closed loop returns as the last answer arrives.
    let last_ack = Instant::now();
    let applied = wait_until_applied(spec, Duration::from_secs(600)).await?;
    Ok(Ingest {
        load,
        first_sent_to_applied: applied.duration_since(started),
        last_ack_to_applied: applied.duration_since(last_ack),
    })
}
