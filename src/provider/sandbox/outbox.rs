//! Like Stripe, the sandbox tells the service about every state change with a signed event,
//! delivered at least once from a durable outbox: enqueued in the transaction that made the
//! change, posted asynchronously, retried with backoff until the endpoint answers 2xx. The
//! outbox is also the sandbox's event list, like Stripe's `GET /v1/events`: every event it
//! created, delivered or not, kept for the same 30 days.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::ids::{stripe_like_id, unix_now};
use super::store::{SandboxConn, SandboxStore};
use crate::config::Secret;
use crate::provider::stripe::events::read_envelope;
use crate::provider::stripe::signature::{self, signature_header};
use crate::provider::{ListedEvent, ProviderError, StorageError};

/// How long events stay listed, as on Stripe.
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 86_400;

/// The API version the sandbox's events claim to be shaped by.
pub const API_VERSION: &str = "2024-06-20";

/// Queues a Stripe-format event about `object` in the caller's transaction.
pub async fn enqueue(
    conn: &mut SandboxConn,
    event_type: &str,
    object: &Value,
    idempotency_key: Option<&str>,
) -> Result<(), ProviderError> {
    let id = stripe_like_id("evt");
    let created = unix_now();
    let event = json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": idempotency_key },
        "type": event_type,
    });
    const SQL: &str =
        "INSERT INTO sandbox_webhook_outbox (id, type, payload, attempts, next_attempt_at)
                       VALUES ($1, $2, $3, 0, $4)";
    conn.execute(
        SQL,
        &[
            (&id).into(),
            event_type.into(),
            event.to_string().into(),
            unix_millis().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The events created at or after `since` (Unix seconds, and within the last 30 days), oldest
/// first, whether their webhook was delivered or not.
pub async fn list_since(
    store: &SandboxStore,
    since: i64,
) -> Result<Vec<ListedEvent>, ProviderError> {
    let since = since.max(unix_now() - EVENT_RETENTION_SECONDS);
    let conn = store.read().await?;
    // The one statement whose SQL differs: how each engine reads a number out of JSON.
    let sql = if conn.is_shared() {
        "SELECT payload FROM sandbox_webhook_outbox
          WHERE (payload::jsonb ->> 'created')::bigint >= $1 ORDER BY seq"
    } else {
        "SELECT payload FROM sandbox_webhook_outbox
          WHERE json_extract(payload, '$.created') >= $1 ORDER BY seq"
    };
    // Up to 30 days of events, each's JSON read: a scan, kept off the async workers.
    let payloads: Vec<String> = conn.values_of_a_scan(sql, vec![since.into()]).await?;
    payloads
        .into_iter()
        .map(|body| {
            let envelope = read_envelope(body.as_bytes())
                .ok_or_else(|| ProviderError::Provider("corrupt sandbox event record".into()))?;
            Ok(ListedEvent { envelope, body })
        })
        .collect()
}

fn unix_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Delivers queued events to the webhook endpoint.
pub struct WebhookDelivery {
    store: SandboxStore,
    client: reqwest::Client,
    target: String,
    secret: Secret,
    wake: Arc<Notify>,
    claim: Duration,
}

/// The longest wait between two attempts at one event.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long the worker sleeps when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Events posted per pass from the node's own outbox.
const BATCH: i64 = 50;
/// Events one node claims per pass from the shared outbox: few, so that the claim usually
/// outlives their posts (one that does not costs a second delivery, which has no effect).
const SHARED_BATCH: i64 = 5;
/// How long a post may take before it is given up.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node's claim on shared events lasts unless set (`WEBHOOK_CLAIM_TIMEOUT`): past
/// it, a node that died mid-pass has its events delivered by another.
const SHARED_CLAIM: Duration = Duration::from_secs(30);

impl WebhookDelivery {
    /// A worker posting the events of `store` to `target`, signing with `secret`, woken by
    /// `wake` on new events.
    pub fn new(store: SandboxStore, target: String, secret: Secret, wake: Arc<Notify>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            store,
            client,
            target,
            secret,
            wake,
            claim: SHARED_CLAIM,
        }
    }

    /// How long this node's claim on events of the shared outbox lasts.
    pub fn with_claim(mut self, claim: Duration) -> Self {
        self.claim = claim;
        self
    }

    /// Runs until aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.deliver_due().await {
                    // A full pass may have left more due: go on at once.
                    Ok(pass) if pass.full => continue,
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "sandbox webhook delivery pass failed"),
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        })
    }

    /// Posts the events that are due, in the order they were queued. On the shared outbox
    /// they are first claimed for this node (`FOR UPDATE SKIP LOCKED`), so each is posted by
    /// one node at a time.
    pub async fn deliver_due(&self) -> Result<Pass, StorageError> {
        let (due, batch) = self.take_due().await?;
        let mut pass = Pass {
            delivered: 0,
            full: due.len() as i64 == batch,
        };
        // Outcomes are recorded together after the pass: one durable transaction, in the write
        // gate's queue, instead of one per event racing the service's writers for SQLite's lock.
        let mut outcomes = Vec::with_capacity(due.len());
        for (id, payload, attempts) in due {
            let (sql, at, reason) = match self.post(&payload).await {
                Ok(()) => {
                    pass.delivered += 1;
                    const DELIVERED: &str = "UPDATE sandbox_webhook_outbox
                        SET delivered_at = $1, attempts = attempts + 1, last_error = COALESCE($2, last_error) WHERE id = $3";
                    (DELIVERED, unix_millis(), None)
                }
                Err(reason) => {
                    let wait = backoff(attempts);
                    tracing::debug!(event = %id, %reason, retry_in_ms = wait.as_millis() as u64, "sandbox webhook not acknowledged");
                    const RETRY: &str = "UPDATE sandbox_webhook_outbox
                        SET next_attempt_at = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3";
                    (RETRY, unix_millis() + wait.as_millis() as i64, Some(reason))
                }
            };
            outcomes.push((sql, at, reason, id));
        }
        if outcomes.is_empty() {
            return Ok(pass);
        }
        let (_turn, mut conn) = self.store.begin_records().await?;
        for (sql, at, reason, id) in &outcomes {
            conn.execute(sql, &[(*at).into(), reason.as_deref().into(), id.into()])
                .await?;
        }
        conn.commit().await?;
        Ok(pass)
    }

    /// The due events (id, payload, attempts so far), oldest first, and the most a pass takes.
    async fn take_due(&self) -> Result<(Vec<(String, String, i64)>, i64), StorageError> {
        let mut conn = self.store.read().await?;
        if !conn.is_shared() {
            const DUE: &str = "SELECT id, payload, attempts FROM sandbox_webhook_outbox
                WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY seq LIMIT $2";
            let due = conn.all(DUE, &[unix_millis().into(), BATCH.into()]).await?;
            return Ok((due, BATCH));
        }
        // Claimed by moving their next attempt past the claim's end: a node that dies holding
        // them leaves them due again then.
        const CLAIM: &str = "UPDATE sandbox_webhook_outbox SET next_attempt_at = $2
            WHERE seq IN (SELECT seq FROM sandbox_webhook_outbox
                           WHERE delivered_at IS NULL AND next_attempt_at <= $1
                           ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING seq, id, payload, attempts";
        let now = unix_millis();
        let claim_end = now + self.claim.as_millis() as i64;
        let mut claimed: Vec<(i64, String, String, i64)> = conn
            .all(CLAIM, &[now.into(), claim_end.into(), SHARED_BATCH.into()])
            .await?;
        claimed.sort_by_key(|(seq, ..)| *seq);
        let due = claimed
            .into_iter()
            .map(|(_, id, payload, attempts)| (id, payload, attempts))
            .collect();
        Ok((due, SHARED_BATCH))
    }

    async fn post(&self, payload: &str) -> Result<(), String> {
        let header = signature_header(self.secret.expose(), unix_now(), payload.as_bytes());
        let response = self
            .client
            .post(&self.target)
            .header("Content-Type", "application/json")
            .header(signature::HEADER, header)
            .body(payload.to_owned())
            .send()
            .await
            .map_err(|error| format!("unreachable: {error}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status()))
        }
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Events the endpoint acknowledged.
    pub delivered: usize,
    /// Whether the pass took as many events as it may (so more may be due).
    pub full: bool,
}

/// 1 s, 2 s, 4 s … up to an hour, with ±20 % jitter so retries do not march in step.
fn backoff(attempts: i64) -> Duration {
    let base = Duration::from_secs(1u64 << attempts.clamp(0, 12)).min(MAX_BACKOFF);
    let jitter = rand::rng().random_range(0.8..1.2);
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(1_200));
        assert!(backoff(3) >= Duration::from_millis(6_400));
        assert!(backoff(40) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
