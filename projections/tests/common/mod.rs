//! Shared by the projection tests: a migrated database and a raw event appender.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

/// A fresh, migrated database in `dir`.
pub async fn fresh_pool(dir: &tempfile::TempDir) -> SqlitePool {
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    sqlx::migrate!("../migrations").run(&pool).await.unwrap();
    pool
}

/// Appends an event as the event store would (the position trigger numbers it).
pub async fn append(
    pool: &SqlitePool,
    aggregate_type: &str,
    id: &str,
    sequence: i64,
    payload: serde_json::Value,
) {
    let event_type = payload.as_object().unwrap().keys().next().unwrap().clone();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES (?, ?, ?, ?, '1.0', ?, '{}')",
    )
    .bind(aggregate_type)
    .bind(id)
    .bind(sequence)
    .bind(event_type)
    .bind(payload.to_string())
    .execute(pool)
    .await
    .unwrap();
}
