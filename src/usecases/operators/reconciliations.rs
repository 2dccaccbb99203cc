//! The reconciliation runs recorded in the log, for operators: each run's window and counts
//! with the events it fed into the inbox and the objects it brought forward, oldest first and
//! paged by log position; and where the last run ended, from which the scheduled run starts
//! its window. Payloads are read through the event versions' upcasts, like every reader of the
//! log.

use aggregates::reconciliation::{LostEvent, ObjectDrift, Reconciliation, ReconciliationEvent};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::SqlitePool;

use crate::error::AppError;

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// The log position of its `ReconciliationRun`.
    pub position: i64,
    pub run_id: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub listed: u64,
    pub missing: u64,
    /// The events it fed into the inbox.
    pub repaired: Vec<LostEvent>,
    /// Objects compared with the provider's, and how many were behind.
    pub objects_checked: u64,
    pub objects_differing: u64,
    /// The objects it brought forward.
    pub objects_repaired: Vec<ObjectDrift>,
}

/// A page of runs, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    pub next_after: Option<i64>,
}

/// Up to `limit` runs recorded after log position `after`, oldest first.
pub async fn list(pool: &SqlitePool, after: i64, limit: i64) -> Result<RunPage, AppError> {
    // One read transaction: the runs and their repairs come from the same log.
    let mut tx = pool.begin().await?;
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT position, aggregate_id, payload, event_version, recorded_at FROM events
          WHERE aggregate_type = ?1 AND event_type = 'ReconciliationRun' AND position > ?2
          ORDER BY position LIMIT ?3",
    )
    .bind(Reconciliation::TYPE)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await?;
    let more = rows.len() as i64 > limit;
    let mut runs = Vec::new();
    for (position, run_id, payload, version, recorded_at) in
        rows.into_iter().take(limit.max(0) as usize)
    {
        let ReconciliationEvent::ReconciliationRun {
            since,
            until,
            listed,
            missing,
            objects_checked,
            objects_differing,
            ..
        } = decode("ReconciliationRun", &version, &payload)?
        else {
            continue;
        };
        let repairs: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT event_type, event_version, payload FROM events
              WHERE aggregate_type = ? AND aggregate_id = ?
                AND event_type IN ('DriftRepaired', 'ObjectRepaired')
              ORDER BY sequence",
        )
        .bind(Reconciliation::TYPE)
        .bind(&run_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut repaired = Vec::new();
        let mut objects_repaired = Vec::new();
        for (event_type, version, payload) in &repairs {
            match decode(event_type, version, payload)? {
                ReconciliationEvent::DriftRepaired {
                    stripe_event_id,
                    event_type,
                } => repaired.push(LostEvent {
                    stripe_event_id,
                    event_type,
                }),
                ReconciliationEvent::ObjectRepaired {
                    object,
                    id,
                    provider_id,
                    from_status,
                    to_status,
                } => objects_repaired.push(ObjectDrift {
                    object,
                    id,
                    provider_id,
                    from_status,
                    to_status,
                }),
                ReconciliationEvent::ReconciliationRun { .. } => {}
            }
        }
        runs.push(RunRecord {
            position,
            run_id,
            recorded_at,
            since,
            until,
            listed,
            missing,
            repaired,
            objects_checked,
            objects_differing,
            objects_repaired,
        });
    }
    tx.commit().await?;
    let next_after = more.then(|| runs.last().map(|run| run.position)).flatten();
    Ok(RunPage { runs, next_after })
}

/// Where the last recorded run's window ended (`None` before the first run).
pub async fn last_until(pool: &SqlitePool) -> Result<Option<DateTime<Utc>>, AppError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT event_version, payload FROM events
          WHERE aggregate_type = ? AND event_type = 'ReconciliationRun'
          ORDER BY position DESC LIMIT 1",
    )
    .bind(Reconciliation::TYPE)
    .fetch_optional(pool)
    .await?;
    let run = row
        .map(|(version, payload)| decode("ReconciliationRun", &version, &payload))
        .transpose()?;
    Ok(match run {
        Some(ReconciliationEvent::ReconciliationRun { until, .. }) => Some(until),
        _ => None,
    })
}

/// A stored event of a run, in the current shape whatever version stored it.
fn decode(event_type: &str, version: &str, payload: &str) -> Result<ReconciliationEvent, AppError> {
    let stored = serde_json::from_str(payload).map_err(AppError::internal)?;
    let (current, _) =
        aggregates::versions::upcast(Reconciliation::TYPE, event_type, version, stored);
    serde_json::from_value(current).map_err(AppError::internal)
}
