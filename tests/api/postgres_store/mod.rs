//! The event store on PostgreSQL, on the private cluster (`support::postgres`): the global
//! order (`global_order`), the append-only log and snapshots (`log_rules`), and the invariants
//! held across two nodes on one database (`invariants`); `billstream migrate-to`
//! (`migrate_to`); TLS as `sslmode` asks (`tls`); two `billstream serve` processes on one
//! database, racing (`two_servers`); a node's own file checked against the shared log
//! (`node_files`); one e-mail per message whatever the nodes (`shared_mail`);
//! Idempotency-Keys across nodes (`shared_keys`); the webhook inbox they share
//! (`shared_inbox`) and the offline sandbox they share (`shared_sandbox`); `/ready` and
//! `billstream migrate` on PostgreSQL (`operations`). A "node" here is what a billstream
//! process holds: its own pool and its own cqrs-es frameworks.

mod global_order;
mod inbox_worker;
mod invariants;
mod log_rules;
mod migrate_to;
mod node_files;
mod operations;
mod shared_inbox;
mod shared_keys;
mod shared_mail;
mod shared_sandbox;
mod tls;
mod two_servers;

use std::collections::BTreeMap;

use aggregates::money::{Amount, Currency};
use aggregates::payment::{CreatePayment, Outcome, PaymentCommand, RecordOutcome};
use billstream::store::postgres::{connect, migrate, PgSettings};
use chrono::Utc;
use sqlx::PgPool;

use crate::support::postgres::fresh_database;
use crate::two_instances::{start_node_with, Node};

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

/// `billstream serve` nodes on the shared log at `url`, one per name, each with its own file in
/// `dir` and the extra variables `extra`; with the files, for assertions on node-local state.
pub async fn serve_nodes(
    url: &str,
    dir: &std::path::Path,
    names: &[&str],
    extra: &[(&str, String)],
) -> Vec<(Node, std::path::PathBuf)> {
    let client = reqwest::Client::new();
    let mut nodes = Vec::new();
    for name in names {
        let file = dir.join(format!("{name}.db"));
        let mut vars = vec![
            ("DATABASE_URL", url.to_owned()),
            ("NODE_DATABASE_URL", format!("sqlite://{}", file.display())),
        ];
        vars.extend(extra.iter().cloned());
        nodes.push((start_node_with(&file, &client, &vars).await, file));
    }
    nodes
}

/// Registers `email` on the node at `base`; its bearer token.
pub async fn register_on(client: &reqwest::Client, base: &str, email: &str) -> String {
    let session = register_session_on(client, base, email).await;
    session["token"].as_str().expect("a token").to_owned()
}

/// Registers a customer on the node at `base`; returns the whole session (token, customer).
pub async fn register_session_on(
    client: &reqwest::Client,
    base: &str,
    email: &str,
) -> serde_json::Value {
    let response = client
        .post(format!("{base}/api/auth/register"))
        .json(&serde_json::json!({"email": email, "password": "correct horse battery", "name": "Ada"}))
        .send()
        .await
        .expect("the node answers");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    response.json().await.expect("a JSON body")
}
