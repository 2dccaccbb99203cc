//! The inbox in the node's own SQLite file (one node, or the default): its writes on the hot
//! path go through the group-commit writer with the service's other writes.

use std::collections::HashSet;

use sqlx::SqlitePool;

use super::entry::{
    after_failure, backoff, InboxEntry, InboxError, InboxRecord, InboxStatus, Retry, Stored,
};
use crate::provider::EventEnvelope;
use crate::store::group_commit::GroupCommit;

/// The inbox table of the node's file.
#[derive(Clone)]
pub struct NodeInbox {
    pool: SqlitePool,
    writer: GroupCommit,
}

/// The claim: the oldest due events, in Stripe's order (`due`).
const DUE: &str = "SELECT seq, event_id, type, object_id, created, status, attempts, last_error,
                          received_at, payload
                     FROM stripe_inbox
                    WHERE status = 'pending' AND next_attempt_at <= ?
                    ORDER BY created, seq
                    LIMIT ?";

fn unix_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl NodeInbox {
    /// Reads through `pool`, writes through `writer`.
    pub fn new(pool: SqlitePool, writer: GroupCommit) -> Self {
        Self { pool, writer }
    }

    /// Commits a verified event (the raw body, as delivered) unless its id is already stored;
    /// returns once the row is durable.
    pub async fn store(&self, event: &EventEnvelope, raw: &[u8]) -> Result<Stored, InboxError> {
        let row = (
            event.id.clone(),
            event.event_type.clone(),
            event.object_id.clone(),
            event.object_type.clone(),
            event.created,
            event.livemode,
            String::from_utf8_lossy(raw).into_owned(),
            chrono::Utc::now().to_rfc3339(),
        );
        let inserted = self
            .writer
            .run_statement(Box::new(move |db| {
                let (id, kind, object_id, object_type, created, livemode, payload, received) = row;
                db.prepare_cached(
                    "INSERT INTO stripe_inbox
                       (event_id, type, object_id, object_type, created, livemode, payload,
                        received_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (event_id) DO NOTHING",
                )?
                .execute(rusqlite::params![
                    id,
                    kind,
                    object_id,
                    object_type,
                    created,
                    livemode,
                    payload,
                    received
                ])
            }))
            .await?;
        Ok(if inserted == 1 {
            Stored::New
        } else {
            Stored::Duplicate
        })
    }

    /// Pending events that are due, oldest Stripe time first (so the events of one object come
    /// in the order Stripe created them), arrival order breaking ties. One walk of the
    /// `stripe_inbox_pending` index, which is in that order, stopping at `limit`.
    pub async fn due(&self, limit: i64) -> Result<Vec<InboxEntry>, sqlx::Error> {
        sqlx::query_as(DUE)
            .bind(unix_millis())
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    /// Records how processing ended.
    pub async fn finish(&self, seq: i64, status: InboxStatus) -> Result<(), InboxError> {
        let processed_at = chrono::Utc::now().to_rfc3339();
        self.writer
            .run_statement(Box::new(move |db| {
                db.prepare_cached(
                    "UPDATE stripe_inbox SET status = ?, attempts = attempts + 1,
                            last_error = NULL, processed_at = ? WHERE seq = ?",
                )?
                .execute(rusqlite::params![status.as_str(), processed_at, seq])
                .map(|_| ())
            }))
            .await?;
        Ok(())
    }

    /// Records a failure: retried later with backoff, or parked after `MAX_ATTEMPTS`.
    pub async fn fail(&self, entry: &InboxEntry, error: &str) -> Result<InboxStatus, InboxError> {
        let attempts = entry.attempts + 1;
        let status = after_failure(attempts);
        let (seq, error) = (entry.seq, error.to_owned());
        let next_attempt_at = unix_millis() + backoff(attempts).as_millis() as i64;
        self.writer
            .run_statement(Box::new(move |db| {
                db.prepare_cached(
                    "UPDATE stripe_inbox SET status = ?, attempts = ?, last_error = ?,
                            next_attempt_at = ? WHERE seq = ?",
                )?
                .execute(rusqlite::params![
                    status.as_str(),
                    attempts,
                    error,
                    next_attempt_at,
                    seq
                ])
                .map(|_| ())
            }))
            .await?;
        Ok(status)
    }

    /// Events in a status (all when `None`), newest first.
    pub async fn list(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, sqlx::Error> {
        sqlx::query_as(
            "SELECT seq, event_id, type, object_id, created, status, attempts, last_error,
                    received_at, payload
               FROM stripe_inbox WHERE (?1 IS NULL OR status = ?1)
              ORDER BY seq DESC LIMIT ?2",
        )
        .bind(status)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Events after arrival number `after`, oldest first, in `status` (all when `None`).
    pub async fn page(
        &self,
        status: Option<InboxStatus>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, sqlx::Error> {
        sqlx::query_as(
            "SELECT seq, event_id, type, object_id, created, status, attempts, last_error,
                    received_at, payload
               FROM stripe_inbox WHERE seq > ?1 AND (?2 IS NULL OR status = ?2)
              ORDER BY seq LIMIT ?3",
        )
        .bind(after)
        .bind(status.map(|status| status.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Which of `event_ids` the inbox holds, in any status.
    pub async fn known(&self, event_ids: &[&str]) -> Result<HashSet<String>, sqlx::Error> {
        let ids = serde_json::to_string(event_ids).unwrap_or_else(|_| "[]".into());
        let known: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM stripe_inbox
              WHERE event_id IN (SELECT value FROM json_each(?))",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(known.into_iter().collect())
    }

    /// The event stored under Stripe id `event_id`, with its attempts and times.
    pub async fn find(&self, event_id: &str) -> Result<Option<InboxRecord>, sqlx::Error> {
        sqlx::query_as(
            "SELECT seq, event_id, type, object_id, created, status, attempts, last_error,
                    received_at, payload, object_type, livemode, next_attempt_at, processed_at
               FROM stripe_inbox WHERE event_id = ?",
        )
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Queues event `event_id` again, due now with a fresh count of attempts, unless it is
    /// applied; the check and the change are one statement, so a retry racing the worker's
    /// success cannot queue an applied event again.
    pub async fn retry(&self, event_id: &str) -> Result<Retry, InboxError> {
        let id = event_id.to_owned();
        let queued = self
            .writer
            .run_statement(Box::new(move |db| {
                db.prepare_cached(
                    "UPDATE stripe_inbox SET status = 'pending', attempts = 0,
                            next_attempt_at = 0
                      WHERE event_id = ? AND status <> 'applied'",
                )?
                .execute([id])
            }))
            .await?;
        if queued == 1 {
            return Ok(Retry::Queued);
        }
        Ok(match self.find(event_id).await? {
            Some(_) => Retry::AlreadyApplied,
            None => Retry::Unknown,
        })
    }

    /// Puts events back in the queue: one by id, or every event in `status`. Returns how many.
    pub async fn requeue(&self, event_id: Option<&str>, status: &str) -> Result<u64, sqlx::Error> {
        let requeued = sqlx::query(
            "UPDATE stripe_inbox SET status = 'pending', attempts = 0, next_attempt_at = 0
              WHERE (?1 IS NOT NULL AND event_id = ?1) OR (?1 IS NULL AND status = ?2)",
        )
        .bind(event_id)
        .bind(status)
        .execute(&self.pool)
        .await?;
        Ok(requeued.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::DUE;

    #[tokio::test]
    async fn a_claim_walks_the_pending_events_in_order_instead_of_sorting_the_backlog() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("db.sqlite").display()
        );
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        crate::store::pool::migrate(&pool).await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {DUE}"))
                .bind(0_i64)
                .bind(500_i64)
                .fetch_all(&pool)
                .await
                .unwrap();
        let plan: Vec<&str> = plan.iter().map(|(_, _, _, step)| step.as_str()).collect();
        assert_eq!(
            plan,
            vec!["SCAN stripe_inbox USING INDEX stripe_inbox_pending"],
            "the claim would read and sort every pending event"
        );
    }
}
