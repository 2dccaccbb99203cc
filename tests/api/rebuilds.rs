//! Rebuilding views beside the live ones (`billstream replay`, `--verify`) while the service
//! takes writes: nothing lost, no half-built view, no write held for long.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::Projector;
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};

use crate::helpers::{billstream, open_pool, spawn_quiet_app, TestApp};

/// Every row of every view, as sorted JSON arrays per table: equal dumps mean equal views.
pub async fn dump_views(pool: &SqlitePool) -> Vec<(String, Vec<String>)> {
    dump_views_in(&mut pool.acquire().await.unwrap(), pool).await
}

/// [`dump_views`] on one connection (inside the caller's transaction, if it has one).
pub async fn dump_views_in(
    conn: &mut SqliteConnection,
    pool: &SqlitePool,
) -> Vec<(String, Vec<String>)> {
    let projector = Projector::with_all_projections(pool.clone());
    let mut dump = Vec::new();
    for projection in projector.select(&[]).unwrap() {
        for table in projection.tables() {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            let columns = columns
                .iter()
                .map(|name| format!("\"{name}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let mut rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT json_array({columns}) FROM \"{table}\""))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            rows.sort();
            dump.push((table.to_string(), rows));
        }
    }
    dump
}

/// The views a fresh, in-place replay of the whole log builds, on a copy of the database.
pub async fn fresh_replay_of(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let copy = app.db_path.with_extension("fresh-replay.db");
    sqlx::query("VACUUM INTO ?")
        .bind(copy.display().to_string())
        .execute(&app.pool)
        .await
        .unwrap();
    let pool = open_pool(&copy).await;
    Projector::with_all_projections(pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();
    let views = dump_views(&pool).await;
    pool.close().await;
    views
}

/// Each table's declared indexes, by their definition (the name alternates between rebuilds).
async fn indexes_of_tables(pool: &SqlitePool) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut definitions: Vec<(String, String)> = rows
        .into_iter()
        .map(|(table, sql)| {
            let columns = sql.find(" ON ").map_or("", |at| &sql[at..]);
            let columns = columns.find('(').map_or("", |at| &columns[at..]);
            (table, columns.to_owned())
        })
        .collect();
    definitions.sort();
    definitions
}

/// Creates payment intents as `token` until `stop`; returns the longest request and the count.
async fn keep_writing(
    client: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> (Duration, u32) {
    let (mut longest, mut writes) = (Duration::ZERO, 0);
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({"amount": 1_000 + writes, "currency": "eur"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        longest = longest.max(started.elapsed());
        writes += 1;
    }
    (longest, writes)
}

#[tokio::test]
async fn a_rebuild_under_concurrent_writes_swaps_in_the_views_a_fresh_replay_builds_and_holds_no_write_for_a_second(
) {
    let app = spawn_quiet_app().await;
    let mut tokens = Vec::new();
    for i in 0..4 {
        let token = app.token_for(&format!("writer{i}@example.com")).await;
        for amount in 0..25 {
            app.create_intent(&token, 500 + amount, "eur").await;
        }
        tokens.push(token);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            tokio::spawn(keep_writing(
                app.client.clone(),
                app.url("/api/payments/create-intent"),
                token,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let indexes_before = indexes_of_tables(&app.pool).await;
    let before = app.event_count().await;
    let replay = billstream(&app.db_path, &["replay"]).await;
    let during = app.event_count().await - before;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut longest = Duration::ZERO;
    let mut writes = 0;
    for writer in writers {
        let (writer_longest, writer_writes) = writer.await.unwrap();
        longest = longest.max(writer_longest);
        writes += writer_writes;
    }

    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(stdout.contains("swapped in at position"), "{stdout}");
    eprintln!(
        "{writes} writes, {during} events appended while the replay ran; longest write {:.1} ms; {stdout}",
        longest.as_secs_f64() * 1000.0
    );
    assert!(during > 0, "no write overlapped the rebuild");
    assert!(
        longest < Duration::from_secs(1),
        "a write waited {longest:?}"
    );
    assert_eq!(dump_views(&app.pool).await, fresh_replay_of(&app).await);
    // The rebuilt views carry every index of the old ones (built after their rows were copied).
    assert_eq!(indexes_of_tables(&app.pool).await, indexes_before);
    // The old views, renamed aside by the swap, are emptied and dropped after it.
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master
          WHERE type = 'table' AND (name LIKE '%\\_\\_retired' ESCAPE '\\'
                                 OR name LIKE '%\\_\\_rebuild' ESCAPE '\\')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn verify_reports_a_tampered_row_exits_1_and_leaves_it_until_a_plain_replay_mends_it() {
    let app = spawn_quiet_app().await;
    let token = app.token_for("tampered@example.com").await;
    let intent = app.create_intent(&token, 2_000, "eur").await;
    let payment_id = intent["payment_id"].as_str().unwrap().to_owned();
    let untouched = billstream(&app.db_path, &["replay", "--verify"]).await;
    assert!(
        untouched.status.success(),
        "{}",
        String::from_utf8_lossy(&untouched.stderr)
    );
    assert!(String::from_utf8_lossy(&untouched.stdout).contains("equal to a rebuild"));

    sqlx::query("UPDATE payments SET amount = 1 WHERE payment_id = ?")
        .bind(&payment_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let verify = billstream(
        &app.db_path,
        &["replay", "--verify", "--projection", "payments"],
    )
    .await;
    assert_eq!(verify.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        stdout.contains(&format!(
            "payments payment_id={payment_id}: amount is 1 in the live view, 2000 rebuilt"
        )),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&verify.stderr).contains("1 rows differ"));
    let amount = || {
        sqlx::query_scalar::<_, i64>("SELECT amount FROM payments WHERE payment_id = ?")
            .bind(&payment_id)
            .fetch_one(&app.pool)
    };
    assert_eq!(amount().await.unwrap(), 1, "verify changed the live view");

    let replay = billstream(&app.db_path, &["replay", "--projection", "payments"]).await;
    assert!(replay.status.success());
    assert_eq!(amount().await.unwrap(), 2_000);
    let verify = billstream(&app.db_path, &["replay", "--verify"]).await;
    assert!(verify.status.success());
    assert_eq!(dump_views(&app.pool).await, fresh_replay_of(&app).await);
}

#[tokio::test]
async fn replay_of_an_unknown_view_names_the_views_there_are() {
    let app = spawn_quiet_app().await;
    let output = billstream(&app.db_path, &["replay", "--projection", "ledger"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no view named ledger; the views are customer_profiles, payments"),
        "{stderr}"
    );
}
