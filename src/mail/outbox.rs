//! The outbox table (`mail_outbox`): queueing, claiming a due message, recording an attempt, and
//! the listings `billstream mail` prints.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

use super::compose::{Composed, MailKind};

/// A queued message.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct OutboxRow {
    pub message_id: String,
    pub position: i64,
    pub kind: String,
    pub customer_id: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub invoice_id: Option<String>,
    /// `pending`, `sent` or `parked`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// A message to queue.
pub struct NewMessage<'a> {
    pub message_id: &'a str,
    pub position: i64,
    pub kind: MailKind,
    pub customer_id: &'a str,
    pub recipient: &'a str,
    pub language: &'a str,
    pub composed: &'a Composed,
    pub invoice_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Times as stored: RFC 3339 with milliseconds, UTC, so they sort as text.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The Message-ID (without angle brackets) of the message about the event at `position`: the
/// same on every apply, so the outbox's primary key refuses a second copy.
pub fn message_id(position: i64, kind: MailKind, domain: &str) -> String {
    format!("{position}.{}@{domain}", kind.code())
}

/// Queues a message, due now; one already queued under its Message-ID is left as it is.
pub fn queue(db: &rusqlite::Connection, message: &NewMessage<'_>) -> rusqlite::Result<()> {
    let now = timestamp(message.at);
    db.prepare_cached(
        "INSERT INTO mail_outbox (message_id, position, kind, customer_id, recipient, language,
                                  subject, text_body, html_body, invoice_id, next_attempt_at,
                                  created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (message_id) DO NOTHING",
    )?
    .execute(rusqlite::params![
        message.message_id,
        message.position,
        message.kind.code(),
        message.customer_id,
        message.recipient,
        message.language,
        message.composed.subject,
        message.composed.text,
        message.composed.html,
        message.invoice_id,
        now,
        now,
    ])?;
    Ok(())
}

/// The Message-IDs of up to `limit` pending messages due at `now`, oldest event first.
pub async fn due(
    db: impl SqliteExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT message_id FROM mail_outbox
          WHERE status = 'pending' AND next_attempt_at <= ?
          ORDER BY position LIMIT ?",
    )
    .bind(timestamp(now))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes a due message for one attempt: pushes its next attempt to `lease_until`, so another
/// process's delivery loop on the same database leaves it alone meanwhile. `None` when another
/// one took it first (or it is no longer due).
pub async fn claim(
    db: impl SqliteExecutor<'_>,
    message_id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE mail_outbox SET next_attempt_at = ?3
          WHERE message_id = ?1 AND status = 'pending' AND next_attempt_at <= ?2
         RETURNING *",
    )
    .bind(message_id)
    .bind(timestamp(now))
    .bind(timestamp(lease_until))
    .fetch_optional(db)
    .await
}

/// Records a successful attempt: the transport accepted the message.
pub async fn mark_sent(
    db: impl SqliteExecutor<'_>,
    message_id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
            SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
          WHERE message_id = ?1",
    )
    .bind(message_id)
    .bind(timestamp(at))
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or parked when `park`.
pub async fn mark_failed(
    db: impl SqliteExecutor<'_>,
    message_id: &str,
    error: &str,
    retry_at: DateTime<Utc>,
    park: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
            SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                status = CASE WHEN ?4 THEN 'parked' ELSE status END
          WHERE message_id = ?1",
    )
    .bind(message_id)
    .bind(error)
    .bind(timestamp(retry_at))
    .bind(park)
    .execute(db)
    .await?;
    Ok(())
}

/// Every queued message, newest first, optionally of one status.
pub async fn list(
    db: impl SqliteExecutor<'_>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM mail_outbox WHERE ?1 IS NULL OR status = ?1
          ORDER BY position DESC LIMIT ?2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One queued message.
pub async fn find(
    db: impl SqliteExecutor<'_>,
    message_id: &str,
) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM mail_outbox WHERE message_id = ?")
        .bind(message_id)
        .fetch_optional(db)
        .await
}
