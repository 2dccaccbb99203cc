//! A node's own file must hold a beginning of the shared log: one that went on alone (a SQLite
//! service that kept taking writes after `migrate-to`) is refused at start, before anything is
//! copied into it, and the operator is told what to do. Events left in a node's own webhook
//! inbox move to the shared one when it starts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use billstream::store::postgres::{connect, PgSettings};

use crate::helpers::{open_pool, spawn_app_on, TEST_JWT_SECRET};
use crate::support::postgres::fresh_database;

#[tokio::test]
async fn a_node_file_holding_events_the_shared_log_lacks_is_refused_at_start() {
    // Given a SQLite service's file with an account in it, and an empty shared log,
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alone.db");
    let app = spawn_app_on(&file).await;
    app.register("alone@example.com", "correct horse battery", "Ada")
        .await;
    app.stop().await;
    let url = fresh_database().await;

    // when that file is given to a node of the shared log,
    let mut node = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("NODE_DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("billstream starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = node.kill();
            panic!("the node served a file that holds another log");
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    // then it stops at once, saying why and what to do, without printing the URL.
    let output = node.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(said.contains("beyond the shared log"), "{said}");
    assert!(said.contains("migrate-to"), "{said}");
    assert!(!said.contains(&url), "{said}");
}

#[tokio::test]
async fn events_left_in_a_nodes_own_inbox_move_to_the_shared_one_when_it_starts() {
    // Given a node's file holding an acknowledged event in its own inbox (a node that ran
    // before the inbox was shared),
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (node, file) = super::serve_nodes(&url, dir.path(), &["node-a"], &[])
        .await
        .remove(0);
    drop(node);
    let own = open_pool(&file).await;
    sqlx::query(
        "INSERT INTO stripe_inbox (event_id, type, object_id, created, livemode, payload,
                                   received_at)
         VALUES ('evt_left', 'customer.updated', 'cus_left', 1, 0,
                 '{\"id\":\"evt_left\",\"type\":\"customer.updated\",\"created\":1,
                   \"data\":{\"object\":{\"id\":\"cus_left\"}}}', '2026-12-01T00:00:00Z')",
    )
    .execute(&own)
    .await
    .expect("an acknowledged event");
    own.close().await;
    // when the node starts again,
    let (_node, file) = super::serve_nodes(&url, dir.path(), &["node-a"], &[])
        .await
        .remove(0);
    // then the event is in the shared inbox, where the nodes process it (its customer is
    // unknown here), and no longer in the node's own.
    let shared = connect(&url, &PgSettings::default()).await.unwrap();
    let mut status = String::new();
    for _ in 0..50 {
        status = sqlx::query_scalar("SELECT status FROM stripe_inbox WHERE event_id = 'evt_left'")
            .fetch_one(&shared)
            .await
            .expect("the event moved");
        if status != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "unknown_customer");
    let own = open_pool(&file).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox")
        .fetch_one(&own)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
