//! The group-commit writer: concurrent appends share transactions, each is answered only after
//! its own commit, and a conflict fails only the append that caused it.

use std::sync::Arc;

use aggregates::customer::{Customer, CustomerCommand};
use billstream::store;
use cqrs_es::AggregateError;
use futures::future::join_all;

use crate::event_store::{register, rename};
use crate::helpers::{open_pool, writer};

#[tokio::test]
async fn concurrent_appends_share_transactions_and_all_commit() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let writer = writer(&pool).await;
    let cqrs = Arc::new(store::cqrs_for::<Customer>(pool.clone(), &writer, None, ()));

    let outcomes = join_all((0..200).map(|i| {
        let cqrs = cqrs.clone();
        async move {
            cqrs.execute(&format!("c{i}"), register(&format!("c{i}@example.com")))
                .await
        }
    }))
    .await;

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 200);
    let stats = writer.stats();
    assert_eq!(stats.jobs, 200);
    assert!(
        stats.batches < 200,
        "200 concurrent appends took {} transactions",
        stats.batches
    );
}

#[tokio::test]
async fn a_conflict_fails_only_its_own_append_and_the_batch_commits() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let writer = writer(&pool).await;
    let cqrs = Arc::new(store::cqrs_for::<Customer>(pool.clone(), &writer, None, ()));
    cqrs.execute("taken", register("taken@example.com"))
        .await
        .unwrap();

    // Given 100 new registrations and, among them, 10 that claim an address already taken.
    let outcomes = join_all((0..110).map(|i| {
        let cqrs = cqrs.clone();
        async move {
            let email = if i < 10 {
                "taken@example.com".to_owned()
            } else {
                format!("n{i}@example.com")
            };
            let command: CustomerCommand = register(&email);
            (i, cqrs.execute(&format!("n{i}"), command).await)
        }
    }))
    .await;

    for (i, outcome) in &outcomes {
        if *i < 10 {
            assert!(
                matches!(outcome, Err(AggregateError::AggregateConflict)),
                "{i}: {outcome:?}"
            );
        } else {
            assert!(outcome.is_ok(), "{i}: {outcome:?}");
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 101, "the conflicting appends left nothing behind");
    let positions: Vec<i64> = sqlx::query_scalar("SELECT position FROM events ORDER BY position")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        positions,
        (1..=101).collect::<Vec<_>>(),
        "no gap where a conflict was rolled back"
    );
    // The aggregate that lost still works.
    cqrs.execute("n10", rename("Renamed")).await.unwrap();
}
