//! The event log: global positions in commit order, optimistic concurrency, append-only.

use aggregates::customer::Customer;
use aggregates::customer::{
    CustomerCommand, CustomerName, Email, FieldUpdate, PasswordHash, RegisterCustomer,
    UpdateProfile,
};
use billstream::store;
use chrono::Utc;
use cqrs_es::{AggregateError, EventStore};

use crate::helpers::{open_pool, spawn_app};

pub fn register(email: &str) -> CustomerCommand {
    CustomerCommand::Register(RegisterCustomer {
        email: Email::parse(email).unwrap(),
        name: CustomerName::parse("Someone").unwrap(),
        phone: None,
        password_hash: PasswordHash::new("$2b$04$placeholder".into()),
        stripe_customer_id: "cus_placeholder".into(),
        registered_at: Utc::now(),
    })
}

pub fn rename(name: &str) -> CustomerCommand {
    CustomerCommand::UpdateProfile(UpdateProfile {
        name: Some(CustomerName::parse(name).unwrap()),
        phone: FieldUpdate::Keep,
        updated_at: Utc::now(),
    })
}

#[tokio::test]
async fn positions_are_gap_free_and_follow_commit_order_across_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let cqrs =
        store::cqrs_for::<Customer>(pool.clone(), &crate::helpers::writer(&pool).await, None, ());
    let mut expected = vec![];
    for (i, id) in ["c", "a", "b", "a", "c", "b"].iter().enumerate() {
        let exists: bool = expected.iter().any(|(agg, _)| agg == id);
        let command = if exists {
            rename(&format!("Name {i}"))
        } else {
            register(&format!("{id}@example.com"))
        };
        cqrs.execute(id, command).await.unwrap();
        expected.push((id.to_string(), i as i64 + 1));
    }
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT aggregate_id, position FROM events ORDER BY position")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn of_two_commands_on_one_aggregate_version_only_the_first_commits() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let cqrs =
        store::cqrs_for::<Customer>(pool.clone(), &crate::helpers::writer(&pool).await, None, ());
    cqrs.execute("ada", register("ada@example.com"))
        .await
        .unwrap();

    let event_store = cqrs_es::persist::PersistedEventStore::<_, Customer>::new_event_store(
        sqlite_es::SqliteEventRepository::new(pool.clone()),
    );
    let first = event_store.load_aggregate("ada").await.unwrap();
    let second = event_store.load_aggregate("ada").await.unwrap();
    let event = aggregates::customer::CustomerEvent::ProfileUpdated {
        name: "Ada".into(),
        phone: None,
        updated_at: Utc::now(),
    };
    event_store
        .commit(vec![event.clone()], first, Default::default())
        .await
        .unwrap();
    let outcome = event_store
        .commit(vec![event], second, Default::default())
        .await;
    assert!(matches!(outcome, Err(AggregateError::AggregateConflict)));
}

#[tokio::test]
async fn a_second_registration_of_an_email_is_a_conflict_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("db.sqlite")).await;
    let cqrs =
        store::cqrs_for::<Customer>(pool.clone(), &crate::helpers::writer(&pool).await, None, ());
    cqrs.execute("first", register("same@example.com"))
        .await
        .unwrap();
    let outcome = cqrs.execute("second", register("same@example.com")).await;
    assert!(matches!(outcome, Err(AggregateError::AggregateConflict)));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the losing registration left no event");
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let delete = sqlx::query("DELETE FROM events").execute(&app.pool).await;
    assert!(delete.is_err());
    let rewrite = sqlx::query("UPDATE events SET payload = '{}'")
        .execute(&app.pool)
        .await;
    assert!(rewrite.is_err());
    let reposition = sqlx::query("UPDATE events SET position = 99")
        .execute(&app.pool)
        .await;
    assert!(reposition.is_err());
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn events_carry_the_request_id_in_their_metadata() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .header("x-request-id", "req-abc-123")
        .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse", "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let metadata: String = sqlx::query_scalar("SELECT metadata FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(metadata.contains("req-abc-123"), "{metadata}");
}
