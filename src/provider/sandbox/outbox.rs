//! Like Stripe, the sandbox tells the service about every state change with a signed event,
//! delivered at least once from a durable outbox: enqueued in the transaction that made the
//! change, posted asynchronously, retried with backoff until the endpoint answers 2xx. The
//! outbox is also the sandbox's event list, like Stripe's `GET /v1/events`: every event it
//! created, delivered or not, kept for the same 30 days.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::ids::{stripe_like_id, unix_now};
use crate::config::Secret;
use crate::provider::stripe::events::read_envelope;
use crate::provider::stripe::signature::{self, signature_header};
use crate::provider::{ListedEvent, ProviderError};

/// How long events stay listed, as on Stripe.
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 86_400;

/// The API version the sandbox's events claim to be shaped by.
pub const API_VERSION: &str = "2024-06-20";

/// Queues a Stripe-format event about `object` in the caller's transaction.
pub async fn enqueue(
    conn: &mut SqliteConnection,
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
    sqlx::query(
        "INSERT INTO sandbox_webhook_outbox (id, type, payload, attempts, next_attempt_at)
         VALUES (?, ?, ?, 0, ?)",
    )
    .bind(&id)
    .bind(event_type)
    .bind(event.to_string())
    .bind(unix_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The events created at or after `since` (Unix seconds, and within the last 30 days), oldest
/// first, whether their webhook was delivered or not.
pub async fn list_since(pool: &SqlitePool, since: i64) -> Result<Vec<ListedEvent>, ProviderError> {
    let since = since.max(unix_now() - EVENT_RETENTION_SECONDS);
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM sandbox_webhook_outbox
          WHERE json_extract(payload, '$.created') >= ? ORDER BY seq",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
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
    pool: SqlitePool,
    client: reqwest::Client,
    target: String,
    secret: Secret,
    wake: Arc<Notify>,
}

/// The longest wait between two attempts at one event.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long the worker sleeps when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Events posted per pass.
const BATCH: i64 = 50;

impl WebhookDelivery {
    /// A worker posting to `target`, signing with `secret`, woken by `wake` on new events.
    pub fn new(pool: SqlitePool, target: String, secret: Secret, wake: Arc<Notify>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain HTTP client builds");
        Self {
            pool,
            client,
            target,
            secret,
            wake,
        }
    }

    /// Runs until aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.deliver_due().await {
                    tracing::error!(%error, "sandbox webhook delivery pass failed");
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        })
    }

    /// Posts every event that is due, in the order they were queued; returns how many were
    /// acknowledged.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let due: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, payload, attempts FROM sandbox_webhook_outbox
              WHERE delivered_at IS NULL AND next_attempt_at <= ?
              ORDER BY seq LIMIT ?",
        )
        .bind(unix_millis())
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut delivered = 0;
        for (id, payload, attempts) in due {
            match self.post(&payload).await {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE sandbox_webhook_outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
                    )
                    .bind(unix_millis())
                    .bind(&id)
                    .execute(&self.pool)
                    .await?;
                    delivered += 1;
                }
                Err(reason) => {
                    let wait = backoff(attempts);
                    tracing::debug!(event = %id, %reason, retry_in_ms = wait.as_millis() as u64, "sandbox webhook not acknowledged");
                    sqlx::query(
                        "UPDATE sandbox_webhook_outbox
                            SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
                          WHERE id = ?",
                    )
                    .bind(unix_millis() + wait.as_millis() as i64)
                    .bind(reason)
                    .bind(&id)
                    .execute(&self.pool)
                    .await?;
                }
            }
        }
        Ok(delivered)
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
