//! The inbox the nodes share on PostgreSQL (`migrations/postgres/…_stripe_inbox.sql`): any node
//! stores a delivery before it answers 2xx, and any node applies it.
//!
//! A node's worker claims events with `FOR UPDATE SKIP LOCKED`, so two nodes never take the
//! same event, and takes only the oldest due event of each object (its lane): the next event
//! of that object becomes due to anyone once the first one is recorded, so one object's events
//! are applied in Stripe's order whichever nodes apply them. A claim is a lease on the
//! database's clock: a node that dies mid-work leaves its claims to expire, and another node
//! applies those events then. Applying an event twice changes nothing (each aggregate records
//! the Stripe event ids it has applied), so a lease that runs out under a slow node costs
//! only a second, refused, attempt.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use super::entry::{
    after_failure, backoff, InboxEntry, InboxError, InboxRecord, InboxStatus, Retry, Stored,
};
use super::shared_intake::SharedIntake;
use crate::provider::EventEnvelope;

/// The database's clock in Unix milliseconds: every node reads the same clock for claims and
/// retries.
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// The columns of an `InboxEntry`.
const ENTRY: &str = "seq, event_id, type, object_id, created, status, attempts, last_error, \
                     received_at, payload";

/// How many due events per event claimed a claim looks among for the lanes' heads before it
/// looks at them all: room for every lane's next event behind its head, and for lanes held by
/// the other nodes, in a backlog of lifecycles.
const NEAR: i64 = 8;

/// Rows copied per transaction when a node hands its own inbox over.
const ADOPT_PAGE: i64 = 500;

/// The inbox table of the shared database, as seen by one node.
#[derive(Clone)]
pub struct SharedInbox {
    pool: PgPool,
    /// Names this node in its claims, for operators.
    node: String,
    /// How long a claim holds an event for this node.
    lease: Duration,
    /// Commits deliveries in batches.
    intake: SharedIntake,
}

impl SharedInbox {
    /// The inbox in `pool`, claiming as `node` for `lease` at a time. Starts the task that
    /// commits deliveries, so it must be called within the runtime.
    pub fn new(pool: PgPool, node: String, lease: Duration) -> Self {
        Self {
            intake: SharedIntake::start(pool.clone()),
            pool,
            node,
            lease,
        }
    }

    /// The name this node claims under.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Commits a verified event unless its id is already stored; returns once it is durable
    /// (with the deliveries that arrived at the same moment, `shared_intake`).
    pub async fn store(&self, event: &EventEnvelope, raw: &[u8]) -> Result<Stored, InboxError> {
        self.intake.store(event, raw).await
    }

    /// Claims up to `limit` due events for this node, at most one per lane (its oldest due
    /// one), oldest Stripe time first. An event held by a live claim of another node is
    /// skipped, and so is every later event of its lane.
    ///
    /// The lanes' heads are looked for among the oldest `limit × NEAR` pending events first,
    /// one walk of the `stripe_inbox_due` index: those not yet due left out, what remains is
    /// the oldest due events, and a lane met there has its head there too, so the heads found
    /// are the first of all heads. So a claim's cost no longer grows with the backlog (at
    /// 20,000 pending events a scan and sort of them all took 23–44 ms a claim). The window
    /// filters on due-ness only after its `LIMIT`: with the filter inside, the planner guessed
    /// it would pass a third of the rows and chose a scan of the whole table. Only when the
    /// window is full and its lanes are held elsewhere, yielding too few heads, does the claim
    /// look at every due event, one ordered scan (behind a condition on the window's verdict,
    /// which PostgreSQL checks once, skipping the scan when false). The chosen rows are then
    /// taken by primary key (`= ANY(ARRAY(…))`, computed once): a correlated `NOT EXISTS` per
    /// candidate was planned as a nested loop over every pending row, since the statistics lag
    /// a burst. Rows are checked again as they are locked, so one claimed or recorded
    /// meanwhile is left out.
    pub async fn due(&self, limit: i64) -> Result<Vec<InboxEntry>, sqlx::Error> {
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let window = limit.saturating_mul(NEAR);
        let mut claimed: Vec<InboxEntry> = sqlx::query_as(&format!(
            "WITH now AS (SELECT {NOW_MS} AS ms),
                  oldest AS (
                    SELECT seq, lane, created, claimed_until, next_attempt_at
                      FROM stripe_inbox
                     WHERE status = 'pending'
                     ORDER BY created, seq
                     LIMIT $4),
                  near_heads AS (
                    SELECT DISTINCT ON (lane) seq, created, claimed_until
                      FROM oldest
                     WHERE next_attempt_at <= (SELECT ms FROM now)
                     ORDER BY lane, created, seq),
                  near_free AS (
                    SELECT seq FROM near_heads
                     WHERE claimed_until <= (SELECT ms FROM now)
                     ORDER BY created, seq
                     LIMIT $1),
                  look_further AS (
                    SELECT (SELECT count(*) FROM near_free) < $1
                       AND (SELECT count(*) FROM oldest) = $4 AS yes),
                  all_heads AS (
                    SELECT DISTINCT ON (lane) seq, created, claimed_until
                      FROM stripe_inbox
                     WHERE (SELECT yes FROM look_further)
                       AND status = 'pending' AND next_attempt_at <= (SELECT ms FROM now)
                     ORDER BY lane, created, seq),
                  free AS (
                    SELECT seq FROM near_free WHERE NOT (SELECT yes FROM look_further)
                    UNION ALL
                    (SELECT seq FROM all_heads
                      WHERE claimed_until <= (SELECT ms FROM now)
                      ORDER BY created, seq
                      LIMIT $1)),
                  taken AS (
                    SELECT i.seq FROM stripe_inbox i
                     WHERE i.seq = ANY(ARRAY(SELECT seq FROM free))
                       AND i.status = 'pending' AND i.claimed_until <= (SELECT ms FROM now)
                     FOR UPDATE OF i SKIP LOCKED)
             UPDATE stripe_inbox s
                SET claimed_by = $2, claimed_until = (SELECT ms FROM now) + $3
               FROM taken WHERE s.seq = taken.seq
             RETURNING s.seq, s.event_id, s.type, s.object_id, s.created, s.status, s.attempts,
                       s.last_error, s.received_at, s.payload"
        ))
        .bind(limit)
        .bind(&self.node)
        .bind(lease_ms)
        .bind(window)
        .fetch_all(&self.pool)
        .await?;
        claimed.sort_by_key(|entry| (entry.created, entry.seq));
        Ok(claimed)
    }

    /// Records how processing ended for events (a round's), letting their claims go: one
    /// statement, one commit.
    pub async fn finish_all(&self, outcomes: &[(i64, InboxStatus)]) -> Result<(), InboxError> {
        let seqs: Vec<i64> = outcomes.iter().map(|(seq, _)| *seq).collect();
        let statuses: Vec<&str> = outcomes.iter().map(|(_, status)| status.as_str()).collect();
        sqlx::query(
            "UPDATE stripe_inbox s SET status = f.status, attempts = s.attempts + 1,
                    last_error = NULL, processed_at = $3, claimed_by = NULL, claimed_until = 0
               FROM UNNEST($1::bigint[], $2::text[]) AS f(seq, status)
              WHERE s.seq = f.seq",
        )
        .bind(seqs)
        .bind(statuses)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failure (retried later with backoff, or parked) and lets the claim go.
    pub async fn fail(&self, entry: &InboxEntry, error: &str) -> Result<InboxStatus, InboxError> {
        let attempts = entry.attempts + 1;
        let status = after_failure(attempts);
        let delay_ms = i64::try_from(backoff(attempts).as_millis()).unwrap_or(i64::MAX);
        sqlx::query(&format!(
            "UPDATE stripe_inbox SET status = $1, attempts = $2, last_error = $3,
                    next_attempt_at = {NOW_MS} + $4, claimed_by = NULL, claimed_until = 0
              WHERE seq = $5"
        ))
        .bind(status.as_str())
        .bind(attempts)
        .bind(error)
        .bind(delay_ms)
        .bind(entry.seq)
        .execute(&self.pool)
        .await?;
        Ok(status)
    }

    /// Events in a status (all when `None`), newest first.
    pub async fn list(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ENTRY} FROM stripe_inbox WHERE ($1::text IS NULL OR status = $1)
              ORDER BY seq DESC LIMIT $2"
        ))
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
        sqlx::query_as(&format!(
            "SELECT {ENTRY} FROM stripe_inbox
              WHERE seq > $1 AND ($2::text IS NULL OR status = $2)
              ORDER BY seq LIMIT $3"
        ))
        .bind(after)
        .bind(status.map(|status| status.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Which of `event_ids` the inbox holds, in any status.
    pub async fn known(&self, event_ids: &[&str]) -> Result<HashSet<String>, sqlx::Error> {
        let known: Vec<String> =
            sqlx::query_scalar("SELECT event_id FROM stripe_inbox WHERE event_id = ANY($1)")
                .bind(event_ids)
                .fetch_all(&self.pool)
                .await?;
        Ok(known.into_iter().collect())
    }

    /// The event stored under Stripe id `event_id`, with its attempts and times.
    pub async fn find(&self, event_id: &str) -> Result<Option<InboxRecord>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ENTRY}, object_type, livemode, next_attempt_at, processed_at
               FROM stripe_inbox WHERE event_id = $1"
        ))
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Queues event `event_id` again, due now with a fresh count of attempts, unless it is
    /// applied (checked in the same statement).
    pub async fn retry(&self, event_id: &str) -> Result<Retry, InboxError> {
        let queued = sqlx::query(
            "UPDATE stripe_inbox SET status = 'pending', attempts = 0, next_attempt_at = 0
              WHERE event_id = $1 AND status <> 'applied'",
        )
        .bind(event_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
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
              WHERE ($1::text IS NOT NULL AND event_id = $1)
                 OR ($1::text IS NULL AND status = $2)",
        )
        .bind(event_id)
        .bind(status)
        .execute(&self.pool)
        .await?;
        Ok(requeued.rows_affected())
    }

    /// Copies every event of a SQLite inbox (`from`: a node's file from before it joined, or
    /// the database `migrate-to` moves) into this one, with its status and attempts, unless
    /// its id is here already; pending events are then applied by whichever node claims
    /// them. Returns how many were copied. Safe to run again.
    pub async fn adopt(&self, from: &SqlitePool) -> Result<u64, InboxError> {
        let mut after = 0_i64;
        let mut copied = 0;
        loop {
            let rows: Vec<AdoptedRow> = sqlx::query_as(
                "SELECT seq, event_id, type, object_id, object_type, created, livemode,
                        payload, received_at, status, attempts, next_attempt_at, last_error,
                        processed_at
                   FROM stripe_inbox WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(after)
            .bind(ADOPT_PAGE)
            .fetch_all(from)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(copied);
            };
            after = last.seq;
            let mut tx = self.pool.begin().await?;
            for row in rows {
                copied += row.insert(&mut tx).await?;
            }
            tx.commit().await?;
        }
    }
}

/// An event of a SQLite inbox on its way to the shared one.
#[derive(sqlx::FromRow)]
struct AdoptedRow {
    seq: i64,
    event_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    object_id: Option<String>,
    object_type: Option<String>,
    created: i64,
    livemode: bool,
    payload: String,
    received_at: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    processed_at: Option<String>,
}

impl AdoptedRow {
    /// Inserts the row unless its event is there already; 1 when it was copied.
    async fn insert(self, tx: &mut sqlx::PgConnection) -> Result<u64, sqlx::Error> {
        // The lane the webhook endpoint would have given it: a charge or refund goes with its
        // PaymentIntent.
        let lane = crate::provider::read_envelope(self.payload.as_bytes())
            .map(|envelope| envelope.lane().to_owned())
            .or_else(|| self.object_id.clone())
            .unwrap_or_else(|| self.event_id.clone());
        let inserted = sqlx::query(
            "INSERT INTO stripe_inbox
               (event_id, type, object_id, object_type, lane, created, livemode, payload,
                received_at, status, attempts, next_attempt_at, last_error, processed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(self.event_id)
        .bind(self.kind)
        .bind(self.object_id)
        .bind(self.object_type)
        .bind(lane)
        .bind(self.created)
        .bind(self.livemode)
        .bind(self.payload)
        .bind(self.received_at)
        .bind(self.status)
        .bind(self.attempts)
        .bind(self.next_attempt_at)
        .bind(self.last_error)
        .bind(self.processed_at)
        .execute(tx)
        .await?;
        Ok(inserted.rows_affected())
    }
}
