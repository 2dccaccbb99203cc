//! Grows an event log to a given size by copying the events real requests produced, with every
//! identifier renamed per copy: each copy is a new set of customers, payments and Stripe
//! objects living the same lives, so a replay does the same work per event as on the original.

use std::time::Instant;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row};
use uuid::Uuid;

/// Stripe id prefixes that name objects (as opposed to enumerations like `card_declined`).
const STRIPE_PREFIXES: &[&str] = &[
    "cus_", "pi_", "ch_", "re_", "sub_", "in_", "evt_", "price_", "seti_", "pm_", "ii_", "py_",
];

struct TemplateEvent {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: String,
}

/// Appends copies of the log's current events until it holds `target` events. The database
/// must not be in use. Setup, not measurement: written without fsync.
pub async fn grow_log(database_url: &str, target: u64) -> anyhow::Result<u64> {
    let options: SqliteConnectOptions = database_url.parse()?;
    let mut conn = options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .connect()
        .await?;
    let rows = sqlx::query(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                metadata FROM events ORDER BY position",
    )
    .fetch_all(&mut conn)
    .await?;
    let template: Vec<TemplateEvent> = rows
        .iter()
        .map(|row| -> anyhow::Result<TemplateEvent> {
            Ok(TemplateEvent {
                aggregate_type: row.try_get(0)?,
                aggregate_id: row.try_get(1)?,
                sequence: row.try_get(2)?,
                event_type: row.try_get(3)?,
                event_version: row.try_get(4)?,
                payload: serde_json::from_str(row.try_get::<&str, _>(5)?)?,
                metadata: row.try_get(6)?,
            })
        })
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(!template.is_empty(), "the log is empty: nothing to copy");
    let mut total = template.len() as u64;
    let started = Instant::now();
    let mut copy = 0u64;
    while total < target {
        copy += 1;
        let mut tx = conn.begin().await?;
        for event in &template {
            if total >= target {
                break;
            }
            let mut payload = event.payload.clone();
            rename_identifiers(&mut payload, copy);
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                     event_version, payload, metadata)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&event.aggregate_type)
            .bind(rename(&event.aggregate_id, copy))
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(payload.to_string())
            .bind(&event.metadata)
            .execute(&mut *tx)
            .await?;
            total += 1;
        }
        tx.commit().await?;
    }
    // Fold the WAL into the database file, as a service running for a while would have done:
    // reading through a gigabyte of WAL would slow the scan and the replay alike.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    eprintln!(
        "  grew the log to {total} events ({} copies of {} real ones) in {:.1} s",
        copy + 1,
        template.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(total)
}

fn rename_identifiers(value: &mut Value, copy: u64) {
    match value {
        Value::String(text) => {
            let renamed = rename(text, copy);
            if renamed != *text {
                *text = renamed;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rename_identifiers(item, copy)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| rename_identifiers(field, copy)),
        _ => {}
    }
}

/// The identifier `text` becomes in copy `copy`; anything else is left alone.
fn rename(text: &str, copy: u64) -> String {
    if let Ok(id) = Uuid::parse_str(text) {
        return Uuid::new_v5(&id, &copy.to_le_bytes()).to_string();
    }
    if STRIPE_PREFIXES
        .iter()
        .any(|prefix| text.starts_with(prefix))
        && !text.contains(' ')
    {
        return format!("{text}c{copy}");
    }
    if let Some((local, domain)) = text.split_once('@') {
        if !local.is_empty() && domain.contains('.') && !text.contains(' ') {
            return format!("{local}+c{copy}@{domain}");
        }
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_renamed_per_copy_and_the_rest_is_kept() {
        let id = "6f1c2b8e-3c7d-4b1a-9d2e-1f2a3b4c5d6e";
        assert_ne!(rename(id, 1), rename(id, 2));
        assert_eq!(rename(id, 1), rename(id, 1));
        assert_eq!(rename("pi_123", 7), "pi_123c7");
        assert_eq!(rename("ann@example.com", 3), "ann+c3@example.com");
        assert_eq!(rename("card_declined", 3), "card_declined");
        assert_eq!(rename("succeeded", 3), "succeeded");
        assert_eq!(
            rename("Your card was declined.", 3),
            "Your card was declined."
        );
    }
}
