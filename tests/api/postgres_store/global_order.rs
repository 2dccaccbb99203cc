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

/// A payment's first event, as a node that has just decided to create it would append it.
fn first_event(id: &str, note: &str) -> SerializedEvent {
    SerializedEvent {
        aggregate_id: id.into(),
        sequence: 1,
        aggregate_type: "Payment".into(),
        event_type: "PaymentCreated".into(),
        event_version: "1.0".into(),
        payload: json!({"PaymentCreated": {"note": note}}),
        metadata: json!({}),
    }
}

#[tokio::test]
async fn appends_committed_together_refuse_only_the_one_that_lost_its_race() {
    // Given the log's head held by another node's transaction, and one append waiting on it,
    // so that every append queued meanwhile goes into the writer's next batch
    let (first, second) = two_nodes().await;
    let repository = PgEventRepository::new(first.clone());
    let mut holder = second.begin().await.expect("a transaction");
    sqlx::query("SELECT last_position FROM event_log_head FOR UPDATE")
        .execute(&mut *holder)
        .await
        .expect("the head held");
    let waiting = {
        let repository = repository.clone();
        tokio::spawn(async move {
            repository
                .persist::<Payment>(&[first_event("pi_0", "first")], None)
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // When ten payments are appended at once, two of them the same payment's first event
    let mut queued = Vec::new();
    for (id, note) in (1..=9)
        .map(|n| (format!("pi_{n}"), "only"))
        .chain([("pi_4".to_owned(), "twin")])
    {
        let repository = repository.clone();
        queued.push(tokio::spawn(async move {
            repository
                .persist::<Payment>(&[first_event(&id, note)], None)
                .await
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    holder.commit().await.expect("the head let go");
    // Then the waiting one and nine of the ten commit, one of the twins is refused as a lost
    // race, and the log holds ten events at positions 1 to 10 with no gap
    waiting.await.expect("joined").expect("the first append");
    let mut outcomes = Vec::new();
    for append in queued {
        outcomes.push(append.await.expect("joined"));
    }
    let (twins, others): (Vec<_>, Vec<_>) = outcomes
        .into_iter()
        .enumerate()
        .partition(|(index, _)| *index == 3 || *index == 9);
    assert!(
        others.iter().all(|(_, outcome)| outcome.is_ok()),
        "{others:?}"
    );
    let refused: Vec<_> = twins
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Err(PersistenceError::OptimisticLockError)))
        .collect();
    assert_eq!(refused.len(), 1, "{twins:?}");
    let kept = if refused[0].0 == 3 { "twin" } else { "only" };
    assert!(
        twins.iter().any(|(_, outcome)| outcome.is_ok()),
        "{twins:?}"
    );
    assert_eq!(positions(&second).await, (1..=10).collect::<Vec<i64>>());
    assert_eq!(head(&second).await.expect("the head"), 10);
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'PaymentCreated'->>'note' FROM events WHERE aggregate_id = 'pi_4'",
    )
    .fetch_all(&second)
    .await
    .expect("pi_4's events");
    assert_eq!(stored, vec![kept.to_owned()]);
}
