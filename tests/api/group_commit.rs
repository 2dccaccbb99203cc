//! The group-commit writer: concurrent appends share transactions, each is answered only after
//! its own commit, and a conflict fails only the append that caused it. The server's writer
//! also brings the views up to date in each batch's transaction, and a view that fails there
//! does not fail the appends.

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
async fn a_commands_load_reads_on_the_writers_readers_and_sees_every_append_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let readers = projections::Readers::open(pool.clone(), 2).unwrap();
    let writer = writer(&pool).await.with_readers(readers);
    let cqrs = store::cqrs_for::<Customer>(pool.clone(), &writer, None, ());
    // Given every pooled connection held elsewhere: a load through the pool would wait.
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }

    // When a customer registers and is renamed 30 times, one command after the other.
    let commands = async {
        cqrs.execute("c", register("c@example.com")).await?;
        for i in 0..30 {
            cqrs.execute("c", rename(&format!("Name {i}"))).await?;
        }
        Ok::<(), AggregateError<_>>(())
    };

    // Then no load waited for the pool, and each saw the append before it (a stale load would
    // take a sequence already taken: a conflict, which nothing retries here).
    tokio::time::timeout(std::time::Duration::from_secs(20), commands)
        .await
        .expect("a load waited for the pool")
        .unwrap();
    drop(held);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE aggregate_id = 'c'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 31);
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

/// A writer whose batches bring every view up to date before they commit, as the server runs.
async fn writer_with_views(
    pool: &sqlx::SqlitePool,
) -> billstream::store::group_commit::GroupCommit {
    let gate = projections::WriteGate::new();
    let projector = Arc::new(
        projections::Projector::with_all_projections(pool.clone()).with_write_gate(gate.clone()),
    );
    billstream::store::group_commit::GroupCommit::start_with_views(
        pool,
        gate,
        billstream::store::group_commit::GroupCommitSettings::default(),
        projector,
    )
    .await
    .unwrap()
}

async fn checkpoint(pool: &sqlx::SqlitePool, projection: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = ?")
        .bind(projection)
        .fetch_optional(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_append_is_acknowledged_with_the_views_already_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let writer = writer_with_views(&pool).await;
    // No projector catch-up after the command: only the writer's own transaction applies it.
    let cqrs = store::cqrs_for::<Customer>(pool.clone(), &writer, None, ());

    cqrs.execute("c1", register("ana@example.com"))
        .await
        .unwrap();
    cqrs.execute("c1", rename("Ana Lopez")).await.unwrap();

    let name: String = sqlx::query_scalar("SELECT name FROM customer_profiles WHERE id = 'c1'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Ana Lopez");
    for view in ["customer_profiles", "payments", "subscriptions", "invoices"] {
        assert_eq!(checkpoint(&pool, view).await, Some(2), "{view}");
    }
}

#[tokio::test]
async fn a_view_that_fails_leaves_the_append_committed_and_the_checkpoints_where_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let writer = writer_with_views(&pool).await;
    let cqrs = store::cqrs_for::<Customer>(pool.clone(), &writer, None, ());
    // Given a view whose table is gone, so applying a registration fails.
    sqlx::query("DROP TABLE customer_profiles")
        .execute(&pool)
        .await
        .unwrap();

    cqrs.execute("c1", register("ana@example.com"))
        .await
        .unwrap();

    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the append committed");
    // Every view's work in that transaction was rolled back together, checkpoints included:
    // the projector's own catch-up meets the failure again and reports it.
    for view in ["customer_profiles", "payments"] {
        assert_eq!(checkpoint(&pool, view).await, None, "{view}");
    }
}

#[tokio::test]
async fn a_long_backlog_is_caught_up_one_batch_per_write_and_the_rest_left_to_the_projector() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    // Given 1,100 events that no view has seen (appended by a writer without views).
    let plain = writer(&pool).await;
    let cqrs = Arc::new(store::cqrs_for::<Customer>(pool.clone(), &plain, None, ()));
    let outcomes = join_all((0..1_100).map(|i| {
        let cqrs = cqrs.clone();
        async move {
            cqrs.execute(&format!("b{i}"), register(&format!("b{i}@example.com")))
                .await
        }
    }))
    .await;
    assert!(outcomes.iter().all(Result::is_ok));

    // When the server's writer appends one more event.
    let with_views = writer_with_views(&pool).await;
    store::cqrs_for::<Customer>(pool.clone(), &with_views, None, ())
        .execute("last", register("last@example.com"))
        .await
        .unwrap();

    // Then its transaction applied one batch of the backlog, not all of it.
    assert_eq!(
        checkpoint(&pool, "customer_profiles").await,
        Some(projections::Projector::DEFAULT_BATCH_SIZE)
    );
}

#[tokio::test]
async fn the_writers_savepoint_journals_stay_in_memory_instead_of_spilling_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let writer = writer(&pool).await;
    // Each job runs behind a savepoint; past 64 KiB its journal spills to a temporary file
    // unless temporary storage is in memory (2).
    let temp_store = writer
        .run(Box::new(|db| {
            db.query_row("PRAGMA temp_store", [], |row| row.get::<_, i64>(0))
        }))
        .await
        .unwrap();
    assert_eq!(temp_store, 2);
}
