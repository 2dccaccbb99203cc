//! Storm: webhook deliveries over many objects, each event delivered one to three times, in
//! a shuffled order, at 64 connections. The read model must end in the intended states with
//! no effect applied twice.

use std::collections::HashMap;
use std::time::Duration;

use billstream_bench::events;
use billstream_bench::load::{self, closed_loop};
use billstream_bench::service::{Service, ServiceSpec};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::client;

/// Events in each object's life.
const EVENTS_PER_OBJECT: usize = 10;
const REFUND_STEP: i64 = 10;
const AMOUNT: i64 = 5_000;

/// What the storm found.
pub struct StormReport {
    objects: usize,
    events: usize,
    deliveries: usize,
    acknowledged: usize,
    wrong_states: Vec<String>,
    duplicated: i64,
    pub losses: usize,
}

impl StormReport {
    pub fn markdown(&self) -> String {
        format!(
            "## Storm\n\n{} webhook deliveries of {} distinct events over {} PaymentIntents (each event delivered 1–3 times, all shuffled, 64 connections). Lives: decline then success then 8 partial refunds; success then 9 partial refunds; 10 declines.\n\n\
             - Deliveries acknowledged: {} of {}\n- Objects not in their intended final state (status, amount refunded): {}\n- Effects applied twice (a Stripe event, a refund, a success, a payment per intent): {}\n",
            self.deliveries,
            self.events,
            self.objects,
            self.acknowledged,
            self.deliveries,
            if self.wrong_states.is_empty() { "0".to_owned() } else { self.wrong_states.join(", ") },
            self.duplicated,
        )
    }
}

struct Intended {
    status: &'static str,
    refunded: i64,
}

pub async fn run(
    spec: &ServiceSpec,
    objects: usize,
    deliveries: usize,
    seed: u64,
) -> anyhow::Result<StormReport> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5707);
    let client = load::client(64);
    let service = Service::start(spec).await?;
    let customer = client::register(&client, &service.base, "storm@example.com").await?;
    let base_time = chrono::Utc::now().timestamp() - 100_000;
    let mut bodies = Vec::new();
    let mut intended = HashMap::new();
    for k in 0..objects {
        let intent = format!("pi_storm{k:05}");
        let created = |j: usize| base_time + (k * 20 + j) as i64;
        let id = |j: usize| format!("evt_storm{k:05}_{j:02}");
        let cus = &customer.stripe_customer_id;
        match k % 3 {
            0 => {
                bodies.push(events::payment_failed(
                    &id(0),
                    &intent,
                    cus,
                    AMOUNT,
                    created(0),
                ));
                bodies.push(events::payment_succeeded(
                    &id(1),
                    &intent,
                    cus,
                    AMOUNT,
                    created(1),
                ));
                for r in 1..=(EVENTS_PER_OBJECT - 2) {
                    bodies.push(refunded(&id(r + 1), &intent, cus, r, created(r + 1)));
                }
                intended.insert(
                    intent,
                    Intended {
                        status: "partially_refunded",
                        refunded: REFUND_STEP * (EVENTS_PER_OBJECT as i64 - 2),
                    },
                );
            }
            1 => {
                bodies.push(events::payment_succeeded(
                    &id(0),
                    &intent,
                    cus,
                    AMOUNT,
                    created(0),
                ));
                for r in 1..EVENTS_PER_OBJECT {
                    bodies.push(refunded(&id(r), &intent, cus, r, created(r)));
                }
                intended.insert(
                    intent,
                    Intended {
                        status: "partially_refunded",
                        refunded: REFUND_STEP * (EVENTS_PER_OBJECT as i64 - 1),
                    },
                );
            }
            _ => {
                for j in 0..EVENTS_PER_OBJECT {
                    bodies.push(events::payment_failed(
                        &id(j),
                        &intent,
                        cus,
                        AMOUNT,
                        created(j),
                    ));
                }
                intended.insert(
                    intent,
                    Intended {
                        status: "failed",
                        refunded: 0,
                    },
                );
            }
        }
    }
    // Each event 1–3 times, adjusted so the deliveries add up to the requested number.
    let mut times: Vec<usize> = bodies.iter().map(|_| rng.random_range(1..=3)).collect();
    let mut total: usize = times.iter().sum();
    while total != deliveries {
        let i = rng.random_range(0..times.len());
        if total > deliveries && times[i] > 1 {
            times[i] -= 1;
            total -= 1;
        } else if total < deliveries && times[i] < 3 {
            times[i] += 1;
            total += 1;
        }
        if deliveries < bodies.len() || deliveries > 3 * bodies.len() {
            anyhow::bail!(
                "{deliveries} deliveries cannot cover {} events 1–3 times each",
                bodies.len()
            );
        }
    }
    let mut order: Vec<usize> = times
        .iter()
        .enumerate()
        .flat_map(|(i, n)| std::iter::repeat_n(i, *n))
        .collect();
    order.shuffle(&mut rng);
    let report = closed_loop(64, order.len(), |i| {
        events::deliver(&client, &service.base, bodies[order[i]].clone())
    })
    .await;
    client::wait_until_settled(spec, Duration::from_secs(600)).await?;

    let mut conn = client::open(&spec.database_url()).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT payment_intent_id, status, refunded_amount FROM payments WHERE payment_intent_id LIKE 'pi_storm%'").fetch_all(&mut conn).await?;
    let found: HashMap<String, (String, i64)> = rows
        .into_iter()
        .map(|(pi, status, refunded)| (pi, (status, refunded)))
        .collect();
    let mut wrong_states = Vec::new();
    for (intent, want) in &intended {
        match found.get(intent) {
            Some((status, refunded)) if status == want.status && *refunded == want.refunded => {}
            other => wrong_states.push(format!(
                "{intent}: {other:?}, wanted {} / {}",
                want.status, want.refunded
            )),
        }
    }
    let duplicated = client::count(&mut conn, "SELECT
          (SELECT COUNT(*) FROM (SELECT aggregate_id, json_extract(payload, '$.StripeEventApplied.stripe_event_id') AS e FROM events WHERE event_type = 'StripeEventApplied' GROUP BY 1, 2 HAVING COUNT(*) > 1))
        + (SELECT COUNT(*) FROM (SELECT aggregate_id, json_extract(payload, '$.' || event_type || '.refund_id') AS r FROM events WHERE event_type IN ('PaymentRefunded', 'RefundAttributed') GROUP BY 1, 2 HAVING COUNT(*) > 1))
        + (SELECT COUNT(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'PaymentSucceeded' GROUP BY 1 HAVING COUNT(*) > 1))").await?
        + client::shared_count(spec, "SELECT
            (SELECT COUNT(*) FROM (SELECT event_id FROM stripe_inbox GROUP BY 1 HAVING COUNT(*) > 1) AS twice)
          + (SELECT COUNT(*) FROM stripe_inbox WHERE status NOT IN ('applied', 'ignored'))").await?;
    let stored_events = client::shared_count(
        spec,
        "SELECT COUNT(*) FROM stripe_inbox WHERE event_id LIKE 'evt_storm%'",
    )
    .await?;
    anyhow::ensure!(
        stored_events as usize == bodies.len(),
        "{stored_events} events stored of {}",
        bodies.len()
    );
    service.stop()?;
    let unacknowledged = report.failed;
    Ok(StormReport {
        objects,
        events: bodies.len(),
        deliveries: order.len(),
        acknowledged: report.completed,
        losses: wrong_states.len() + duplicated as usize + unacknowledged,
        wrong_states,
        duplicated,
    })
}

/// `charge.refunded` after `refunds` partial refunds of `REFUND_STEP`.
fn refunded(event_id: &str, intent: &str, customer: &str, refunds: usize, created: i64) -> String {
    events::charge_refunded(
        event_id,
        intent,
        customer,
        AMOUNT,
        &vec![REFUND_STEP; refunds],
        created,
    )
}
