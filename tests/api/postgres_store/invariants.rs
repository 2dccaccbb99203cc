//! The invariants that must hold whatever the number of nodes, raced across two nodes on one
//! PostgreSQL database: one account per e-mail, refunds never above the charge, unique invoice
//! numbers, one live subscription per plan. Each is the database's
//! (the aggregate's optimistic concurrency, or a claim in the appending transaction); no
//! process holds a lock.

use std::sync::Arc;

use aggregates::customer::Customer;
use aggregates::payment::{Payment, PaymentCommand, PaymentError, RequestRefund};
use billstream::store::postgres::PgEventRepository;
use billstream::store::{pg_cqrs_for, PgCqrs};
use chrono::Utc;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::AggregateError;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::log_rules::register;
use super::{create, succeed, two_nodes};

/// How many times a client retries a command that lost a race (as the use cases do).
const ATTEMPTS: usize = 100;

#[tokio::test]
async fn racing_registrations_of_one_address_on_two_nodes_open_one_account() {
    // Given two nodes
    let (first, second) = two_nodes().await;
    let nodes = [
        Arc::new(pg_cqrs_for::<Customer>(first.clone(), ())),
        Arc::new(pg_cqrs_for::<Customer>(second.clone(), ())),
    ];
    // When twelve clients register twelve new accounts with one address, half on each node
    let mut racers = Vec::new();
    for client in 0..12 {
        let cqrs = nodes[client % 2].clone();
        racers.push(tokio::spawn(async move {
            cqrs.execute(&format!("cust-{client}"), register("ada@example.com"))
                .await
        }));
    }
    let mut registered = 0;
    for racer in racers {
        match racer.await.expect("a client") {
            Ok(()) => registered += 1,
            Err(AggregateError::AggregateConflict) => {}
            Err(other) => panic!("a registration failed otherwise: {other}"),
        }
    }
    // Then exactly one committed, and the address names it
    assert_eq!(registered, 1);
    let claims: Vec<(String, String)> =
        sqlx::query_as("SELECT email, customer_id FROM customer_emails")
            .fetch_all(&second)
            .await
            .expect("claims");
    assert_eq!(claims.len(), 1);
    let registrations: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'CustomerRegistered'")
            .fetch_one(&first)
            .await
            .expect("a count");
    assert_eq!(registrations, 1);
}

/// A payment of 20.00 EUR, captured.
async fn captured_payment(cqrs: &PgCqrs<Payment>, id: &str) {
    cqrs.execute(id, create(id)).await.expect("created");
    cqrs.execute(id, succeed()).await.expect("captured");
}

/// Requests a refund of `amount`, retrying lost races: `Ok(true)` accepted, `Ok(false)`
/// refused because it would exceed what is left.
async fn request_refund(cqrs: &PgCqrs<Payment>, refund_id: String, amount: i64) -> bool {
    for _ in 0..ATTEMPTS {
        let command = PaymentCommand::RequestRefund(RequestRefund {
            refund_id: refund_id.clone(),
            amount: Some(amount),
            at: Utc::now(),
        });
        match cqrs.execute("pi_1", command).await {
            Ok(()) => return true,
            Err(AggregateError::UserError(PaymentError::RefundExceedsCaptured { .. })) => {
                return false
            }
            Err(AggregateError::AggregateConflict) => continue,
            Err(other) => panic!("a refund failed otherwise: {other}"),
        }
    }
    panic!("a refund lost {ATTEMPTS} races in a row");
}

#[tokio::test]
async fn refunds_racing_on_two_nodes_never_exceed_the_charge() {
    // Given a captured payment of 2,000 and two nodes
    let (first, second) = two_nodes().await;
    let nodes = [
        Arc::new(pg_cqrs_for::<Payment>(first.clone(), ())),
        Arc::new(pg_cqrs_for::<Payment>(second.clone(), ())),
    ];
    captured_payment(&nodes[0], "pi_1").await;
    // When twenty refunds of 300 are requested at once, ten on each node
    let mut racers = Vec::new();
    for client in 0..20 {
        let cqrs = nodes[client % 2].clone();
        racers.push(tokio::spawn(async move {
            request_refund(&cqrs, format!("re_{client}"), 300).await
        }));
    }
    let mut accepted = 0;
    for racer in racers {
        accepted += usize::from(racer.await.expect("a client"));
    }
    // Then six were accepted (1,800) and the seventh would have exceeded the charge
    assert_eq!(accepted, 6);
    let reserved: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM((payload -> 'RefundRequested' ->> 'amount')::bigint), 0)::bigint
           FROM events WHERE aggregate_id = 'pi_1' AND event_type = 'RefundRequested'",
    )
    .fetch_one(&second)
    .await
    .expect("a sum");
    assert_eq!(reserved, 1_800);
}

/// Appends one hand-made event (the claim triggers read only the fields given) as a node would.
async fn append(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    body: Value,
) -> Result<(), PersistenceError> {
    let event = SerializedEvent {
        aggregate_id: aggregate_id.into(),
        sequence: 1,
        aggregate_type: aggregate_type.into(),
        event_type: event_type.into(),
        event_version: "1.0".into(),
        payload: json!({ event_type: body }),
        metadata: json!({}),
    };
    let repository = PgEventRepository::new(pool.clone());
    match aggregate_type {
        "Invoice" => {
            repository
                .persist::<aggregates::invoice::Invoice>(&[event], None)
                .await
        }
        "Subscription" => {
            repository
                .persist::<aggregates::subscription::Subscription>(&[event], None)
                .await
        }
        other => panic!("no test aggregate {other}"),
    }
}

/// Races `claims` appends, alternating between the nodes; returns how many committed.
async fn race(first: &PgPool, second: &PgPool, claims: Vec<(String, String, Value)>) -> usize {
    let mut racers = Vec::new();
    for (index, (aggregate_type, aggregate_id, body)) in claims.into_iter().enumerate() {
        let pool = if index % 2 == 0 { first } else { second }.clone();
        racers.push(tokio::spawn(async move {
            let event_type = match aggregate_type.as_str() {
                "Invoice" => "InvoiceFinalized",
                _ => "SubscriptionRequested",
            };
            append(&pool, &aggregate_type, &aggregate_id, event_type, body).await
        }));
    }
    let mut committed = 0;
    for racer in racers {
        match racer.await.expect("a racer") {
            Ok(()) => committed += 1,
            Err(PersistenceError::OptimisticLockError) => {}
            Err(other) => panic!("an append failed otherwise: {other}"),
        }
    }
    committed
}

#[tokio::test]
async fn two_nodes_finalizing_invoices_with_the_same_number_commit_one() {
    // Given two nodes
    let (first, second) = two_nodes().await;
    // When ten invoices are finalized at once proposing number 2026-000001
    let claims = (0..10)
        .map(|invoice| {
            let body = json!({"year": 2026, "sequence": 1});
            ("Invoice".to_owned(), format!("in_{invoice}"), body)
        })
        .collect();
    // Then one takes it and the others are told they lost a race (they propose the next)
    assert_eq!(race(&first, &second, claims).await, 1);
    let numbers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invoice_numbers")
        .fetch_one(&first)
        .await
        .expect("a count");
    assert_eq!(numbers, 1);
}

#[tokio::test]
async fn two_nodes_subscribing_one_customer_to_one_plan_commit_one_subscription() {
    // Given two nodes
    let (first, second) = two_nodes().await;
    // When eight subscriptions of one customer to plan "pro" are requested at once
    let claims = (0..8)
        .map(|subscription| {
            let body = json!({"customer_id": "cust-1", "plan": "pro"});
            (
                "Subscription".to_owned(),
                format!("sub_{subscription}"),
                body,
            )
        })
        .collect();
    // Then one holds the plan
    assert_eq!(race(&first, &second, claims).await, 1);
    // And once it ends, the plan is free again on the other node
    let holder: String = sqlx::query_scalar("SELECT subscription_id FROM subscription_plan_claims")
        .fetch_one(&second)
        .await
        .expect("a claim");
    let ended = SerializedEvent {
        aggregate_id: holder.clone(),
        sequence: 2,
        aggregate_type: "Subscription".into(),
        event_type: "SubscriptionEnded".into(),
        event_version: "1.0".into(),
        payload: json!({"SubscriptionEnded": {}}),
        metadata: json!({}),
    };
    PgEventRepository::new(first.clone())
        .persist::<aggregates::subscription::Subscription>(&[ended], None)
        .await
        .expect("ended");
    let again = vec![(
        "Subscription".to_owned(),
        "sub_new".to_owned(),
        json!({"customer_id": "cust-1", "plan": "pro"}),
    )];
    assert_eq!(race(&second, &first, again).await, 1);
}
