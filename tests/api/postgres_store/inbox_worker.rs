//! A node's inbox worker on the shared inbox: a backlog of objects with several events each is
//! applied batch after batch, each object's events once, in Stripe's order, each on its first
//! attempt.

use std::time::Duration;

use billstream::provider::read_envelope;
use billstream::store::postgres::{connect, PgSettings};
use serde_json::Value;
use sqlx::PgPool;

use super::{register_session_on, serve_nodes};
use crate::helpers::open_pool;
use crate::support::postgres::fresh_database;
use crate::webhooks::{lifecycle, now, nowhere, shuffle};

/// Objects stored at once: four events each, so the worker claims at least four batches.
const OBJECTS: usize = 150;

/// Stores `events` in the shared inbox in one transaction, so the worker sees all of them at
/// once (events arriving one by one could reach it out of Stripe's order, which is another
/// story: a later event waits for its turn by retrying).
async fn store_at_once(pool: &PgPool, events: &[Value]) {
    let mut tx = pool.begin().await.expect("a transaction");
    for event in events {
        let body = event.to_string();
        let envelope = read_envelope(body.as_bytes()).expect("an event");
        sqlx::query(
            "INSERT INTO stripe_inbox (event_id, type, object_id, object_type, lane, created,
                                       livemode, payload, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, false, $7, '2026-12-02T00:00:00Z')",
        )
        .bind(&envelope.id)
        .bind(&envelope.event_type)
        .bind(&envelope.object_id)
        .bind(&envelope.object_type)
        .bind(envelope.lane())
        .bind(envelope.created)
        .bind(&body)
        .execute(&mut *tx)
        .await
        .expect("stored");
    }
    tx.commit().await.expect("committed");
}

#[tokio::test]
async fn a_backlog_of_lifecycles_is_applied_each_event_once_in_order_on_its_first_attempt() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("SANDBOX_WEBHOOK_URL", nowhere()),
        ("RATE_LIMITS", "off".to_owned()),
    ];
    let (node, file) = serve_nodes(&url, dir.path(), &["node-a"], &vars)
        .await
        .remove(0);
    let session =
        register_session_on(&reqwest::Client::new(), &node.base, "worker@example.com").await;
    let customer = session["customer"]["stripe_customer_id"]
        .as_str()
        .expect("a Stripe customer");
    let pool = connect(&url, &PgSettings::default()).await.unwrap();
    // Given the lifecycles of 150 PaymentIntents (3-D Secure asked, failed, paid, partly
    // refunded: four events each), stored in the shared inbox at once in a shuffled order,
    let mut events: Vec<Value> = (0..OBJECTS)
        .flat_map(|n| lifecycle(n, customer, now() - 6_000 + 10 * n as i64))
        .collect();
    shuffle(&mut events, 11);
    store_at_once(&pool, &events).await;
    // when the node's worker drains them,
    let open = "SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'";
    for _ in 0..600 {
        let pending: i64 = sqlx::query_scalar(open).fetch_one(&pool).await.unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // then every event was applied on its first attempt: none taken while an earlier event of
    // its object was in flight (it would have found its payment a step behind, or been taken
    // twice), none retried,
    let outcomes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, attempts FROM stripe_inbox GROUP BY status, attempts ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(outcomes, vec![("applied".to_owned(), 1)]);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 4 * OBJECTS as i64);
    // and every payment ended as its last events say: partly refunded, 3.00 of 20.00.
    let views = open_pool(&file).await;
    let mut payments: Vec<(String, i64, i64)> = Vec::new();
    for _ in 0..100 {
        payments = sqlx::query_as(
            "SELECT status, amount, refunded_amount FROM payments
              WHERE payment_intent_id LIKE 'pi_storm%' GROUP BY 1, 2, 3",
        )
        .fetch_all(&views)
        .await
        .unwrap();
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payments WHERE payment_intent_id LIKE 'pi_storm%'",
        )
        .fetch_one(&views)
        .await
        .unwrap();
        if count == OBJECTS as i64 && payments.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        payments,
        vec![("partially_refunded".to_owned(), 2_000, 300)]
    );
}
