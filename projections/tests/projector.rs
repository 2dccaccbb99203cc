//! The projector over hand-built events: exactly-once application, checkpoints, and a poison
//! event that stops the line without losing anything.

mod common;

use common::fresh_pool;
use projections::{CustomerProfiles, ProjectionError, Projector};
use serde_json::json;
use sqlx::SqlitePool;

async fn append(pool: &SqlitePool, id: &str, sequence: i64, payload: serde_json::Value) {
    common::append(pool, "Customer", id, sequence, payload).await;
}

fn registered(email: &str, name: &str) -> serde_json::Value {
    json!({"CustomerRegistered": {
        "email": email, "name": name, "phone": null, "password_hash": "$2b$04$x",
        "stripe_customer_id": "cus_x", "registered_at": "2026-11-23T10:00:00Z"
    }})
}

async fn checkpoint(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT position FROM projection_checkpoints WHERE projection = 'customer_profiles'), 0)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn each_event_is_applied_once_and_the_checkpoint_follows() {
    let dir = tempfile::tempdir().unwrap();
    let pool = fresh_pool(&dir).await;
    let projector = Projector::with_all_projections(pool.clone());

    append(&pool, "a", 1, registered("a@example.com", "A")).await;
    append(&pool, "b", 1, registered("b@example.com", "B")).await;
    assert_eq!(projector.catch_up().await.unwrap(), 2);
    assert_eq!(checkpoint(&pool).await, 2);

    append(&pool, "a", 2, json!({"ProfileUpdated": {"name": "A2", "phone": "+1 555 010 9999", "updated_at": "2026-11-23T11:00:00Z"}})).await;
    assert_eq!(projector.catch_up().await.unwrap(), 1);
    assert_eq!(projector.catch_up().await.unwrap(), 0);
    assert_eq!(checkpoint(&pool).await, 3);

    let profiles = CustomerProfiles::all(&pool).await.unwrap();
    assert_eq!(profiles.len(), 2);
    let a = profiles.iter().find(|p| p.id == "a").unwrap();
    assert_eq!(a.name, "A2");
    assert_eq!(a.phone.as_deref(), Some("+1 555 010 9999"));
    assert_eq!(a.created_at, "2026-11-23T10:00:00.000Z");
    assert_eq!(a.updated_at, "2026-11-23T11:00:00.000Z");
    assert!(projector.is_caught_up().await.unwrap());
}

#[tokio::test]
async fn an_undecodable_event_stops_the_projector_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let pool = fresh_pool(&dir).await;
    let projector = Projector::with_all_projections(pool.clone());
    append(&pool, "a", 1, registered("a@example.com", "A")).await;
    append(
        &pool,
        "a",
        2,
        json!({"ProfileUpdated": {"unexpected": true}}),
    )
    .await;

    let outcome = projector.catch_up().await;

    assert!(matches!(
        outcome,
        Err(ProjectionError::Decode { position: 2, .. })
    ));
    // The batch rolled back as a whole: no row, checkpoint untouched, not ready.
    assert_eq!(checkpoint(&pool).await, 0);
    assert!(CustomerProfiles::all(&pool).await.unwrap().is_empty());
    assert!(!projector.is_caught_up().await.unwrap());
}

#[tokio::test]
async fn replay_equals_live_on_a_generated_log() {
    let dir = tempfile::tempdir().unwrap();
    let pool = fresh_pool(&dir).await;
    let projector = Projector::with_all_projections(pool.clone());
    for i in 0..300 {
        let id = format!("c{}", i % 40);
        let sequence: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM events WHERE aggregate_id = ?",
        )
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
        let payload = if sequence == 1 {
            registered(&format!("{id}@example.com"), &id)
        } else if i % 3 == 0 {
            json!({"PasswordChanged": {"password_hash": format!("$2b$04${i}"), "changed_at": "2026-11-23T12:00:00Z"}})
        } else {
            json!({"ProfileUpdated": {"name": format!("{id} v{sequence}"), "phone": null, "updated_at": format!("2026-11-23T12:{:02}:00Z", i % 60)}})
        };
        append(&pool, &id, sequence, payload).await;
        if i % 25 == 0 {
            projector.catch_up().await.unwrap();
        }
    }
    projector.catch_up().await.unwrap();
    let live = CustomerProfiles::all(&pool).await.unwrap();

    let report = projector.replay(&|_, _| {}).await.unwrap();

    assert_eq!(report.events, 300);
    assert_eq!(CustomerProfiles::all(&pool).await.unwrap(), live);
    assert_eq!(checkpoint(&pool).await, 300);
}
