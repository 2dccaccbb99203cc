//! The log's global order on PostgreSQL: gap-free, in commit order, across nodes, so a reader
//! resuming after the last position it saw never skips an event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aggregates::payment::Payment;
use billstream::store::postgres::log::{head, read_after};
use billstream::store::postgres::PgEventRepository;
use billstream::store::{pg_cqrs_for, PgCqrs};
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use serde_json::json;

use super::{create, positions, succeed, two_nodes};

/// Appends `payments` payments (two events each, two commits) through `cqrs`.
async fn append_payments(cqrs: Arc<PgCqrs<Payment>>, node: usize, payments: usize) {
    for payment in 0..payments {
        let id = format!("pi_{node}_{payment}");
        cqrs.execute(&id, create(&id)).await.expect("created");
        cqrs.execute(&id, succeed()).await.expect("succeeded");
    }
}

#[tokio::test]
async fn a_reader_tailing_the_log_while_two_nodes_append_sees_every_position_once_in_order() {
    // Given two nodes, each with four clients appending at once
    let (first, second) = two_nodes().await;
    let nodes = [
        Arc::new(pg_cqrs_for::<Payment>(first.clone(), ())),
        Arc::new(pg_cqrs_for::<Payment>(second.clone(), ())),
    ];
    let writing = Arc::new(AtomicBool::new(true));
    // When a reader keeps asking for "the events after the last one I saw"
    let reader = {
        let (pool, writing) = (first.clone(), writing.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let after = seen.last().copied().unwrap_or(0);
                let page = read_after(&pool, after, 500).await.expect("a page");
                for (expected, event) in (after + 1..).zip(&page) {
                    // A smaller position committed after a larger one would show here as a
                    // hole that fills in later: the reader would have skipped it.
                    assert_eq!(
                        event.position, expected,
                        "the reader met a hole after {after}"
                    );
                }
                seen.extend(page.iter().map(|event| event.position));
                if done && page.is_empty() {
                    return seen;
                }
            }
        })
    };
    let mut clients = Vec::new();
    for client in 0..8 {
        let cqrs = nodes[client % 2].clone();
        clients.push(tokio::spawn(append_payments(cqrs, client, 25)));
    }
    for client in clients {
        client.await.expect("a client");
    }
    writing.store(false, Ordering::SeqCst);
    let seen = reader.await.expect("the reader");
    // Then it saw every event exactly once, numbered 1 to N with no gap
    let total = 8 * 25 * 2;
    assert_eq!(seen, (1..=total).collect::<Vec<i64>>());
    assert_eq!(head(&second).await.expect("the head"), total);
    assert_eq!(positions(&second).await, seen);
}

#[tokio::test]
async fn an_append_that_loses_its_race_gives_its_positions_back() {
    // Given a payment created on node 1
    let (first, second) = two_nodes().await;
    let one = pg_cqrs_for::<Payment>(first.clone(), ());
    one.execute("pi_1", create("pi_1")).await.expect("created");
    // When node 2 appends that payment's first event again, as a node that loaded it before
    // the creation committed would
    let repository = PgEventRepository::new(second.clone());
    let stale = SerializedEvent {
        aggregate_id: "pi_1".into(),
        sequence: 1,
        aggregate_type: "Payment".into(),
        event_type: "PaymentCreated".into(),
        event_version: "1.0".into(),
        payload: json!({"PaymentCreated": {}}),
        metadata: json!({}),
    };
    let lost = repository.persist::<Payment>(&[stale], None).await;
    // Then it is refused as a conflict, and the next append takes the very next position
    assert!(
        matches!(lost, Err(PersistenceError::OptimisticLockError)),
        "{lost:?}"
    );
    one.execute("pi_1", succeed()).await.expect("succeeded");
    assert_eq!(positions(&second).await, vec![1, 2]);
    assert_eq!(head(&second).await.expect("the head"), 2);
}
