//! `billstream migrate-to`: a SQLite database's log copied into PostgreSQL, in order, equal
//! event for event, its claims made again; a second run goes on where the first stopped; a
//! target holding another log is refused untouched. The webhook inbox and the
//! offline sandbox are copied with the log.

use aggregates::customer::Customer;
use billstream::store::pg_cqrs_for;
use billstream::store::postgres::{connect, PgSettings};
use serde_json::Value;
use sqlx::{PgPool, SqlitePool};

use super::log_rules::register;
use crate::helpers::{billstream, spawn_quiet_app};
use crate::support::postgres::fresh_database;
use crate::support::processes::free_port;

/// One event as both logs can state it: position, aggregate, sequence, type, version, payload,
/// metadata and commit time (UTC, milliseconds).
type Row = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    Value,
    Value,
    String,
);

/// The same, as SQLite stores it (payload and metadata as JSON text).
type StoredRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
);

async fn sqlite_log(pool: &SqlitePool) -> Vec<Row> {
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata, recorded_at FROM events ORDER BY position",
    )
    .fetch_all(pool)
    .await
    .expect("the SQLite log");
    rows.into_iter()
        .map(|(p, t, i, s, e, v, payload, metadata, at)| {
            let json = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
            (p, t, i, s, e, v, json(&payload), json(&metadata), at)
        })
        .collect()
}

async fn postgres_log(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version,
                payload, metadata,
                to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
           FROM events ORDER BY position",
    )
    .fetch_all(pool)
    .await
    .expect("the PostgreSQL log")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn migrate_to_copies_the_log_in_order_with_its_claims_and_goes_on_where_it_stopped() {
    // Given a SQLite server that registered customers and took a payment
    let app = spawn_quiet_app().await;
    for customer in 0..3 {
        app.register(
            &format!("move{customer}@example.com"),
            "correct horse",
            "Mover",
        )
        .await;
    }
    let token = app.token_for("payer@example.com").await;
    let intent = app.create_intent(&token, 2_000, "eur").await;
    let intent_id = intent["payment_intent_id"].as_str().expect("an intent id");
    let (confirmed, _) = app.confirm(&token, intent_id, "pm_card_visa").await;
    assert_eq!(confirmed, 200);
    let url = fresh_database().await;
    // When its log is copied while it runs, then again after one more registration
    let first = stdout(&billstream(&app.db_path, &["migrate-to", "--to", &url]).await);
    assert!(first.contains("copied"), "{first}");
    app.register("late@example.com", "correct horse", "Late")
        .await;
    // (and a Stripe event it acknowledged lands in its webhook inbox)
    sqlx::query(
        "INSERT INTO stripe_inbox (event_id, type, object_id, created, livemode, payload,
                                   received_at)
         VALUES ('evt_moved', 'customer.updated', 'cus_moved', 1, 0,
                 '{\"id\":\"evt_moved\",\"type\":\"customer.updated\",\"created\":1,
                   \"data\":{\"object\":{\"id\":\"cus_moved\"}}}', '2026-12-01T00:00:00Z')",
    )
    .execute(&app.pool)
    .await
    .expect("an acknowledged event");
    let before_second = sqlite_log(&app.pool).await.len();
    let second = stdout(&billstream(&app.db_path, &["migrate-to", "--to", &url]).await);
    assert!(second.contains("from an earlier run"), "{second}");
    // Then the PostgreSQL log is the SQLite log, event for event (the server goes on: what it
    // appended after the second run began is for a third)
    let target = connect(&url, &PgSettings::default())
        .await
        .expect("connects");
    let sqlite = app.pool.clone();
    let (from, to) = (sqlite_log(&sqlite).await, postgres_log(&target).await);
    assert!(
        to.len() >= before_second && before_second >= 7,
        "{} events",
        to.len()
    );
    assert_eq!(to[..], from[..to.len()]);
    // And the claims were made again as the events landed
    let emails = |rows: Vec<(String,)>| rows.into_iter().map(|(email,)| email).collect::<Vec<_>>();
    let sqlite_emails: Vec<(String,)> =
        sqlx::query_as("SELECT email FROM customer_emails ORDER BY email")
            .fetch_all(&sqlite)
            .await
            .expect("SQLite's claims");
    let postgres_emails: Vec<(String,)> =
        sqlx::query_as("SELECT email FROM customer_emails ORDER BY email")
            .fetch_all(&target)
            .await
            .expect("PostgreSQL's claims");
    assert_eq!(emails(postgres_emails), emails(sqlite_emails));
    // And the webhook inbox went too, so the nodes apply what was acknowledged here
    let inbox = "SELECT event_id FROM stripe_inbox ORDER BY event_id";
    let sqlite_inbox: Vec<String> = sqlx::query_scalar(inbox).fetch_all(&sqlite).await.unwrap();
    let postgres_inbox: Vec<String> = sqlx::query_scalar(inbox).fetch_all(&target).await.unwrap();
    assert!(sqlite_inbox.contains(&"evt_moved".to_owned()));
    assert_eq!(postgres_inbox, sqlite_inbox);
    // And the sandbox the payment was made in, so its intent is found from PostgreSQL
    let intents = "SELECT id, object FROM sandbox_payment_intents ORDER BY id";
    let sqlite_intents: Vec<(String, String)> =
        sqlx::query_as(intents).fetch_all(&sqlite).await.unwrap();
    let postgres_intents: Vec<(String, String)> =
        sqlx::query_as(intents).fetch_all(&target).await.unwrap();
    assert_eq!(postgres_intents, sqlite_intents);
    assert!(second.contains("sandbox rows"), "{second}");
    assert!(
        !url.is_empty() && !second.contains(&url),
        "the URL is not printed"
    );
}

#[tokio::test]
async fn migrate_to_refuses_a_target_that_holds_another_log_and_leaves_it_untouched() {
    // Given a PostgreSQL database whose log began elsewhere
    let url = fresh_database().await;
    let target = connect(&url, &PgSettings::default())
        .await
        .expect("connects");
    billstream::store::postgres::migrate(&target)
        .await
        .expect("migrated");
    pg_cqrs_for::<Customer>(target.clone(), ())
        .execute("cust-elsewhere", register("elsewhere@example.com"))
        .await
        .expect("registered");
    let app = spawn_quiet_app().await;
    app.register("here@example.com", "correct horse", "Here")
        .await;
    // When this database's log is copied into it, or into something that is not PostgreSQL
    let refused = billstream(&app.db_path, &["migrate-to", "--to", &url]).await;
    let not_postgres = billstream(&app.db_path, &["migrate-to", "--to", "sqlite://other.db"]).await;
    // Then both are refused, saying why, and the target keeps its one event
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another log"), "{stderr}");
    assert!(!not_postgres.status.success());
    let stderr = String::from_utf8_lossy(&not_postgres.stderr);
    assert!(stderr.contains("PostgreSQL URL"), "{stderr}");
    assert_eq!(postgres_log(&target).await.len(), 1);
}

#[tokio::test]
async fn migrate_to_says_why_it_cannot_reach_the_target() {
    // Given a server, and a PostgreSQL URL on a port where nothing listens
    let app = spawn_quiet_app().await;
    let url = format!("postgres://postgres@127.0.0.1:{}/nowhere", free_port());
    // When its log is to be copied there
    let output = billstream(&app.db_path, &["migrate-to", "--to", &url]).await;
    // Then it fails with the reason, not with a pool's timeout, and without the URL
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(!stderr.contains(&url), "{stderr}");
}
