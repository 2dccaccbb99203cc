//! The event store on PostgreSQL, on the private cluster (`support::postgres`): the global
//! order (`global_order`), the append-only log and snapshots (`log_rules`), and the invariants
//! held across two nodes on one database (`invariants`); `billstream migrate-to`
//! (`migrate_to`); TLS as `sslmode` asks (`tls`); two `billstream serve` processes on one
//! database, racing (`two_servers`); a node's own file checked against the shared log
//! (`node_files`); one e-mail per message whatever the nodes (`shared_mail`);
//! Idempotency-Keys across nodes (`shared_keys`). A "node" here is what a billstream
//! process holds: its own pool and its own cqrs-es frameworks.

mod global_order;
mod invariants;
mod log_rules;
mod migrate_to;
mod node_files;
mod shared_keys;
mod shared_mail;
mod tls;
mod two_servers;

use std::collections::BTreeMap;

use aggregates::money::{Amount, Currency};
use aggregates::payment::{CreatePayment, Outcome, PaymentCommand, RecordOutcome};
use billstream::store::postgres::{connect, migrate, PgSettings};
use chrono::Utc;
use sqlx::PgPool;

use crate::support::postgres::fresh_database;

/// Two nodes' pools on one fresh, migrated database; each node migrates at start-up, as a
/// server does, at the same moment.
pub async fn two_nodes() -> (PgPool, PgPool) {
    let url = fresh_database().await;
    let settings = PgSettings::default();
    let (first, second) = tokio::join!(connect(&url, &settings), connect(&url, &settings));
    let (first, second) = (
        first.expect("node 1 connects"),
        second.expect("node 2 connects"),
    );
    let (migrated_first, migrated_second) = tokio::join!(migrate(&first), migrate(&second));
    migrated_first.expect("node 1 migrates");
    migrated_second.expect("node 2 migrates");
    (first, second)
}

/// Every position in the log, in order.
pub async fn positions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM events ORDER BY position")
        .fetch_all(pool)
        .await
        .expect("positions")
}

/// Creates payment `id` of 20.00 EUR.
pub fn create(id: &str) -> PaymentCommand {
    PaymentCommand::Create(CreatePayment {
        customer_id: "cust-1".into(),
        payment_intent_id: id.into(),
        client_secret: format!("{id}_secret"),
        amount: Amount::parse("amount", 2_000).expect("an amount"),
        currency: Currency::parse("currency", "eur").expect("a currency"),
        description: None,
        metadata: BTreeMap::new(),
        created_at: Utc::now(),
    })
}

/// Records that payment's capture (its first confirmation attempt succeeded).
pub fn succeed() -> PaymentCommand {
    PaymentCommand::RecordOutcome(RecordOutcome {
        attempt: Some(1),
        outcome: Outcome::Succeeded {
            amount_received: 2_000,
        },
        at: Utc::now(),
    })
}
