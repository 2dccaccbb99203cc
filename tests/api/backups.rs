//! `billstream backup` while the service takes writes, and `billstream restore`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use projections::Projector;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Row, SqlitePool};

use crate::helpers::{billstream, spawn_quiet_app, spawn_quiet_app_on, TestApp};

/// Customers paying and refunding as fast as they can, until `stop`.
async fn keep_writing(app: Arc<TestApp>, writer: usize, stop: Arc<AtomicBool>) -> usize {
    let token = app.token_for(&format!("writer{writer}@example.com")).await;
    let mut rounds = 0;
    while !stop.load(Ordering::Relaxed) {
        let intent = app.create_intent(&token, 2_000, "eur").await;
        let intent_id = intent["payment_intent_id"].as_str().unwrap();
        let (status, _) = app.confirm(&token, intent_id, "pm_card_visa").await;
        assert_eq!(status, StatusCode::OK);
        let path = format!(
            "/api/payments/{}/refund",
            intent["payment_id"].as_str().unwrap()
        );
        let refund = app
            .post_json(&path, &json!({"amount": 300}), Some(&token))
            .await;
        assert_eq!(refund.status(), StatusCode::OK);
        rounds += 1;
    }
    rounds
}

/// Every row of the read models, as text, in a stable order.
async fn views(pool: &SqlitePool) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    let mut all = Vec::new();
    for table in [
        "customer_profiles",
        "payments",
        "subscriptions",
        "invoices",
        "pending_requests",
    ] {
        let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY 1"))
            .fetch_all(pool)
            .await
            .unwrap();
        let rows = rows
            .iter()
            .map(|row| {
                (0..row.columns().len())
                    .map(|i| row.try_get_unchecked::<Option<String>, _>(i).unwrap())
                    .collect()
            })
            .collect();
        all.push((table.to_owned(), rows));
    }
    all
}

async fn ready(app: &TestApp) {
    for _ in 0..100 {
        if app.get("/ready", None).await.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server on the backup never became ready");
}

#[tokio::test]
async fn a_backup_taken_during_writes_starts_a_server_with_a_consistent_history() {
    let app = Arc::new(spawn_quiet_app().await);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| tokio::spawn(keep_writing(app.clone(), writer, stop.clone())))
        .collect();
    while app.event_count().await < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = app.event_count().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let output = billstream(&app.db_path, &["backup", "--out", copy.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("log complete"), "{stdout}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        assert!(writer.await.unwrap() > 0);
    }
    let after = app.event_count().await;

    // Never over an existing file.
    let again = billstream(&app.db_path, &["backup", "--out", copy.to_str().unwrap()]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let restored = spawn_quiet_app_on(&copy).await;
    ready(&restored).await;
    let copied = restored.event_count().await;
    assert!(
        before <= copied && copied < after,
        "{before} <= {copied} < {after}"
    );
    // Positions 1..N with none missing; every payment's stream whole from its creation.
    let (count, last): (i64, i64) = sqlx::query_as("SELECT COUNT(*), MAX(position) FROM events")
        .fetch_one(&restored.pool)
        .await
        .unwrap();
    assert_eq!(count, last);
    let broken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM payments p WHERE
            (SELECT COUNT(*) FROM events e WHERE e.aggregate_type = 'Payment'
                AND e.aggregate_id = p.payment_id)
            <> (SELECT MAX(sequence) FROM events e WHERE e.aggregate_type = 'Payment'
                AND e.aggregate_id = p.payment_id)
         OR NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = 'Payment'
                AND e.aggregate_id = p.payment_id AND e.sequence = 1
                AND e.event_type = 'PaymentCreated')",
    )
    .fetch_one(&restored.pool)
    .await
    .unwrap();
    assert_eq!(broken, 0);
    // The views the server caught up equal a replay of the copied log (once nothing more is
    // being appended: the server may complete a refund whose answer the copy lacks).
    let mut settled = restored.event_count().await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ready(&restored).await;
        let now = restored.event_count().await;
        if now == settled {
            break;
        }
        settled = now;
    }
    let live = views(&restored.pool).await;
    assert!(!live[1].1.is_empty(), "the copy holds payments");
    Projector::with_all_projections(restored.pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();
    assert_eq!(views(&restored.pool).await, live);
}

#[tokio::test]
async fn restore_checks_the_backup_and_refuses_while_a_server_holds_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("live.db");
    let app = spawn_quiet_app_on(&db_path).await;
    let token = app.token_for("restore@example.com").await;
    app.create_intent(&token, 1_000, "eur").await;
    let copy = dir.path().join("backup.db");
    let copy_arg = copy.to_str().unwrap();
    assert!(billstream(&db_path, &["backup", "--out", copy_arg])
        .await
        .status
        .success());
    app.create_intent(&token, 2_000, "eur").await;

    let refused = billstream(&db_path, &["restore", "--from", copy_arg]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("a billstream server is running"),
        "{stderr}"
    );

    let stranger = dir.path().join("notes.db");
    std::fs::write(&stranger, "not a database").unwrap();
    let foreign = billstream(&db_path, &["restore", "--from", stranger.to_str().unwrap()]).await;
    assert!(!foreign.status.success());
    let stderr = String::from_utf8_lossy(&foreign.stderr);
    assert!(stderr.contains("not a billstream database"), "{stderr}");

    app.stop().await;
    let restored = billstream(&db_path, &["restore", "--from", copy_arg]).await;
    let stdout = String::from_utf8_lossy(&restored.stdout);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(stdout.contains("kept as"), "{stdout}");
    let server = spawn_quiet_app_on(&db_path).await;
    ready(&server).await;
    let amounts: Vec<i64> = sqlx::query_scalar("SELECT amount FROM payments")
        .fetch_all(&server.pool)
        .await
        .unwrap();
    assert_eq!(amounts, vec![1_000]);
}
