//! Contention: 50 concurrent confirms and refunds on one payment, many times over. Money
//! invariants must hold: one charge, refunded never above captured, every acknowledged refund
//! counted once.

use billstream_bench::load;
use billstream_bench::service::{Service, ServiceSpec};
use futures::future::join_all;

use crate::client;

const AMOUNT: i64 = 1_000;
const REFUND: i64 = 300;
const REQUESTS: usize = 50;
/// Tries per refund request while the payment is not captured yet (or is fully refunded).
const REFUND_ATTEMPTS: usize = 15;

/// What the contention rounds found.
pub struct ContentionReport {
    rounds: usize,
    requests: usize,
    confirms_succeeded: usize,
    refunds_succeeded: usize,
    server_errors: usize,
    violations: Vec<String>,
    pub losses: usize,
}

impl ContentionReport {
    pub fn markdown(&self) -> String {
        format!(
            "## Contention\n\n{} rounds; in each, one payment of {AMOUNT} receives {REQUESTS} concurrent requests (25 confirms, 25 refunds of {REFUND}).\n\n\
             - Requests: {}; confirms answered 2xx: {}; refunds answered 2xx: {}; 5xx answers: {}\n\
             - Invariant violations (more than one charge, refunded above captured, refunds counted other than once): {}\n",
            self.rounds,
            self.requests,
            self.confirms_succeeded,
            self.refunds_succeeded,
            self.server_errors,
            if self.violations.is_empty() { "0".to_owned() } else { self.violations.join("; ") },
        )
    }
}

pub async fn run(spec: &ServiceSpec, rounds: usize) -> anyhow::Result<ContentionReport> {
    let client = load::client(REQUESTS);
    let service = Service::start(spec).await?;
    let customer = client::register(&client, &service.base, "contention@example.com").await?;
    let (mut confirms_succeeded, mut refunds_succeeded, mut server_errors) = (0, 0, 0);
    let mut violations = Vec::new();
    for round in 0..rounds {
        let (payment_id, intent) = client::create_intent(&client, &service.base, &customer, AMOUNT)
            .await
            .ok_or_else(|| anyhow::anyhow!("round {round}: create-intent failed"))?;
        let outcomes = join_all((0..REQUESTS).map(|i| {
            let (client, base, customer, payment_id, intent) =
                (&client, &service.base, &customer, &payment_id, &intent);
            async move {
                if i % 2 == 0 {
                    (
                        true,
                        client::confirm(client, base, customer, intent)
                            .await
                            .map_or(0, |(status, _)| status),
                    )
                } else {
                    // A refund that comes before the capture is refused; try again (bounded)
                    // so the refunds also race each other and the late confirms.
                    let mut status = 0;
                    for _ in 0..REFUND_ATTEMPTS {
                        status = client::refund(client, base, customer, payment_id, REFUND)
                            .await
                            .unwrap_or(0);
                        if (200..300).contains(&status) || status >= 500 || status == 0 {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    (false, status)
                }
            }
        }))
        .await;
        let confirms = outcomes
            .iter()
            .filter(|(confirm, status)| *confirm && (200..300).contains(status))
            .count();
        let refunds = outcomes
            .iter()
            .filter(|(confirm, status)| !*confirm && (200..300).contains(status))
            .count();
        server_errors += outcomes
            .iter()
            .filter(|(_, status)| *status >= 500 || *status == 0)
            .count();
        confirms_succeeded += confirms;
        refunds_succeeded += refunds;

        let mut conn = client::open(&spec.database_url()).await?;
        // The sandbox is the node's, or on PostgreSQL the nodes' shared one.
        let charges = client::shared_count(
            spec,
            &format!("SELECT COUNT(*) FROM sandbox_charges WHERE payment_intent = '{intent}'"),
        )
        .await?;
        let amount = if spec.shared_log.is_some() {
            "(object::jsonb ->> 'amount')::bigint"
        } else {
            "json_extract(object, '$.amount')"
        };
        let provider_refunded = client::shared_count(spec, &format!("SELECT CAST(COALESCE(SUM({amount}), 0) AS bigint) FROM sandbox_refunds WHERE payment_intent = '{intent}'")).await?;
        let succeeded = client::count(&mut conn, &format!("SELECT COUNT(*) FROM events WHERE aggregate_id = '{payment_id}' AND event_type = 'PaymentSucceeded'")).await?;
        let (status, refunded): (String, i64) =
            sqlx::query_as("SELECT status, refunded_amount FROM payments WHERE payment_id = ?")
                .bind(&payment_id)
                .fetch_one(&mut conn)
                .await?;
        let acknowledged_refunds = refunds as i64 * REFUND;
        let mut check = |ok: bool, what: String| {
            if !ok {
                violations.push(format!("round {round}: {what}"));
            }
        };
        check(charges == 1, format!("{charges} charges"));
        check(
            succeeded == 1,
            format!("{succeeded} PaymentSucceeded events"),
        );
        let expected_status = match refunded {
            0 => "succeeded",
            r if r < AMOUNT => "partially_refunded",
            _ => "refunded",
        };
        check(
            status == expected_status,
            format!("status {status}, expected {expected_status}"),
        );
        check(
            refunded <= AMOUNT,
            format!("refunded {refunded} > captured {AMOUNT}"),
        );
        check(
            refunded == acknowledged_refunds,
            format!("refunded {refunded} but {acknowledged_refunds} acknowledged"),
        );
        check(
            provider_refunded == refunded,
            format!("provider refunded {provider_refunded}, billstream {refunded}"),
        );
        check(confirms >= 1, "no confirm succeeded".to_owned());
        check(
            refunds >= 1,
            "no refund succeeded: the refunds did not race".to_owned(),
        );
    }
    service.stop()?;
    Ok(ContentionReport {
        rounds,
        requests: rounds * REQUESTS,
        confirms_succeeded,
        refunds_succeeded,
        server_errors,
        losses: violations.len() + server_errors,
        violations,
    })
}
