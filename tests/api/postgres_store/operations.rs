//! Running nodes on PostgreSQL: `/ready` says a node cut off from the shared database is not
//! ready (so a load balancer stops sending it commands it cannot take) and ready again once
//! the database answers; `billstream migrate` migrates the shared database as well as the
//! node's file; `billstream inbox` works on the shared inbox.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};

use super::serve_nodes;
use crate::helpers::TEST_JWT_SECRET;
use crate::support::postgres::fresh_database;

/// The cluster's maintenance database and the name of the database at `url`.
fn admin_of(url: &str) -> (String, String) {
    let (server, name) = url.rsplit_once('/').expect("a database URL");
    (format!("{server}/postgres"), name.to_owned())
}

/// Lets connections to database `name` in, or shuts them out and ends the open ones.
async fn allow_connections(admin: &mut PgConnection, name: &str, allowed: bool) {
    sqlx::query(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}"
    ))
    .execute(&mut *admin)
    .await
    .expect("the database is altered");
    if !allowed {
        // A connection that passed the startup check just before the ALTER committed is not
        // yet in pg_stat_activity when the first round of terminations runs, and would
        // survive it: end the database's backends until two rounds 200 ms apart find none.
        let mut quiet_rounds = 0;
        for _ in 0..50 {
            let ended: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            )
            .bind(name)
            .fetch_all(&mut *admin)
            .await
            .expect("its connections end");
            quiet_rounds = if ended.is_empty() {
                quiet_rounds + 1
            } else {
                0
            };
            if quiet_rounds == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("backends of {name} kept appearing after 50 rounds of terminations");
    }
}

/// Polls `/ready` until it answers `want` (10 s at most); the last status and body seen.
async fn ready_becomes(
    client: &reqwest::Client,
    base: &str,
    want: StatusCode,
) -> (StatusCode, String) {
    let mut seen = (StatusCode::OK, String::new());
    for _ in 0..100 {
        let answer = client
            .get(format!("{base}/ready"))
            .send()
            .await
            .expect("the node answers");
        let status = answer.status();
        seen = (status, answer.text().await.expect("a body"));
        if status == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

#[tokio::test]
async fn a_node_cut_off_from_the_shared_database_is_not_ready_until_it_answers_again() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (node, _) = serve_nodes(&url, dir.path(), &["node-a"], &[])
        .await
        .remove(0);
    assert_eq!(
        ready_becomes(&client, &node.base, StatusCode::OK).await.0,
        StatusCode::OK
    );
    let (admin_url, name) = admin_of(&url);
    let mut admin = PgConnection::connect(&admin_url).await.expect("admin");

    // When the shared database stops answering the node,
    allow_connections(&mut admin, &name, false).await;
    // then the node says it is not ready, with the usual error body and nothing internal,
    let (status, body) = ready_becomes(&client, &node.base, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("\"not_ready\""), "{body}");
    assert!(!body.contains("postgres"), "{body}");
    // and ready again once it answers.
    allow_connections(&mut admin, &name, true).await;
    assert_eq!(
        ready_becomes(&client, &node.base, StatusCode::OK).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_to_the_shared_database_and_the_nodes_file() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.db");
    let output = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("NODE_DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("billstream runs");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("shared PostgreSQL database"), "{said}");
    assert!(!said.contains(&url), "the URL is never printed: {said}");
    let mut shared = PgConnection::connect(&url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables
          WHERE table_name IN ('events', 'stripe_inbox', 'mail_claims', 'login_failures')",
    )
    .fetch_one(&mut shared)
    .await
    .unwrap();
    assert_eq!(tables, 4);
    assert!(file.exists(), "the node's file is migrated too");
}

#[tokio::test]
async fn the_inbox_command_lists_and_requeues_the_shared_inbox() {
    // Given a parked event in the nodes' shared inbox,
    let url = fresh_database().await;
    let shared = sqlx::PgPool::connect(&url).await.unwrap();
    billstream::store::postgres::migrate(&shared).await.unwrap();
    sqlx::query(
        "INSERT INTO stripe_inbox (event_id, type, lane, created, livemode, payload, received_at,
                                   status, attempts)
         VALUES ('evt_shared', 'customer.updated', 'cus_x', 1, false, '{}', 'now', 'parked', 8)",
    )
    .execute(&shared)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inbox = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_billstream"))
            .arg("inbox")
            .args(args)
            .env("DATABASE_URL", &url)
            .env(
                "NODE_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("node.db").display()),
            )
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("RUST_LOG", "warn")
            .output()
            .expect("billstream runs")
    };
    // when an operator lists the parked events and queues them again from a node's shell,
    let listed = inbox(&["list", "--status", "parked"]);
    let requeued = inbox(&["retry", "--parked"]);
    // then both act on the shared inbox.
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains("evt_shared"), "{listed}");
    assert!(
        String::from_utf8_lossy(&requeued.stdout).contains("1 event(s) queued again"),
        "{requeued:?}"
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM stripe_inbox WHERE event_id = 'evt_shared'")
            .fetch_one(&shared)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    // and the operators' view of one event reads it whole.
    let inbox = billstream::inbox::SharedInbox::new(shared, "test".into(), Duration::from_secs(1));
    let record = inbox.find("evt_shared").await.unwrap().expect("the event");
    assert_eq!(
        (
            record.entry.status.as_str(),
            record.entry.attempts,
            record.livemode
        ),
        ("pending", 0, false)
    );
    assert!(inbox.find("evt_unknown").await.unwrap().is_none());
}
