//! The outbox table (`mail_outbox`): queueing, claiming a round of due messages, recording the
//! attempts, and the listings `billstream mail` prints.

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

/// [`due`]'s query: the index is named so that a planner's change of mind fails loudly.
const DUE: &str = "SELECT message_id FROM mail_outbox INDEXED BY mail_outbox_pending
                    WHERE status = 'pending' AND next_attempt_at <= ?1
                    ORDER BY position LIMIT ?2";

/// The Message-IDs of up to `limit` pending messages due at `now`, oldest event first: a walk
/// of the pending messages in their events' order (`mail_outbox_pending`) that stops at the
/// limit, whatever the backlog. A read, outside the write lock.
pub async fn due(
    db: impl SqliteExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(DUE)
        .bind(timestamp(now))
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Takes the messages of `message_ids` that are still due at `now`, for one attempt each, in
/// one statement (by primary key): their next attempt is pushed to `lease_until`, so another
/// process's delivery loop leaves them alone meanwhile. Those another loop took first, or that
/// are no longer due, are left out. One write for a round, where a claim per message cost a
/// durable commit each.
pub async fn claim_all(
    db: impl SqliteExecutor<'_>,
    message_ids: &[String],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let mut rows: Vec<OutboxRow> = sqlx::query_as(
        "UPDATE mail_outbox SET next_attempt_at = ?3
          WHERE message_id IN (SELECT value FROM json_each(?1))
            AND +status = 'pending' AND +next_attempt_at <= ?2
         RETURNING *",
    )
    .bind(ids_json(message_ids))
    .bind(timestamp(now))
    .bind(timestamp(lease_until))
    .fetch_all(db)
    .await?;
    // RETURNING gives no order; messages go out in the order of their events.
    rows.sort_by_key(|row| row.position);
    Ok(rows)
}

/// Records successful attempts (the transport accepted the messages) in one statement.
pub async fn mark_all_sent(
    db: impl SqliteExecutor<'_>,
    message_ids: &[String],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
            SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
          WHERE message_id IN (SELECT value FROM json_each(?1))",
    )
    .bind(ids_json(message_ids))
    .bind(timestamp(at))
    .execute(db)
    .await?;
    Ok(())
}

/// Gives back claimed messages that were not attempted (the round ran out of time): due again
/// at `due_at`, for this loop's next round or another process's.
pub async fn release(
    db: impl SqliteExecutor<'_>,
    message_ids: &[String],
    due_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET next_attempt_at = ?2
          WHERE message_id IN (SELECT value FROM json_each(?1)) AND +status = 'pending'",
    )
    .bind(ids_json(message_ids))
    .bind(timestamp(due_at))
    .execute(db)
    .await?;
    Ok(())
}

fn ids_json(message_ids: &[String]) -> String {
    serde_json::to_string(message_ids).expect("strings always serialise")
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

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use sqlx::sqlite::SqlitePoolOptions;
    use sqlx::SqlitePool;

    use super::*;

    async fn outbox_with(due: &[(&str, i64, DateTime<Utc>)]) -> SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        crate::store::pool::MIGRATOR.run(&pool).await.unwrap();
        for (message_id, position, at) in due {
            sqlx::query(
                "INSERT INTO mail_outbox (message_id, position, kind, customer_id, recipient,
                                          language, subject, text_body, html_body,
                                          next_attempt_at, created_at)
                 VALUES (?, ?, 'receipt', 'c', 'a@example.com', 'en', 's', 't', 'h', ?, ?)",
            )
            .bind(message_id)
            .bind(position)
            .bind(timestamp(*at))
            .bind(timestamp(*at))
            .execute(&pool)
            .await
            .unwrap();
        }
        pool
    }

    async fn claim_due(
        pool: &SqlitePool,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, sqlx::Error> {
        let due = due(pool, now, limit).await?;
        claim_all(pool, &due, now, lease_until).await
    }

    fn ids(rows: &[OutboxRow]) -> Vec<&str> {
        rows.iter().map(|row| row.message_id.as_str()).collect()
    }

    #[tokio::test]
    async fn a_round_claims_the_oldest_due_messages_once_and_hands_back_the_untried() {
        // Given four messages due now, queued out of order, and one due tomorrow.
        let now = Utc::now();
        let pool = outbox_with(&[
            ("m3", 3, now),
            ("m1", 1, now),
            ("later", 0, now + Duration::days(1)),
            ("m4", 4, now),
            ("m2", 2, now),
        ])
        .await;
        let lease = now + Duration::minutes(2);

        // When a round claims three, then another round looks.
        let first = claim_due(&pool, now, lease, 3).await.unwrap();
        let second = claim_due(&pool, now, lease, 3).await.unwrap();

        // Then the first has the three oldest, in their events' order; the second the last one.
        assert_eq!(ids(&first), ["m1", "m2", "m3"]);
        assert_eq!(ids(&second), ["m4"]);

        // When the first round sends two and hands the third back untried.
        mark_all_sent(&pool, &["m1".to_owned(), "m2".to_owned()], now)
            .await
            .unwrap();
        release(&pool, &["m3".to_owned()], now).await.unwrap();

        // Then only the untried one is due again; the sent ones count one attempt each.
        let third = claim_due(&pool, now, lease, 10).await.unwrap();
        assert_eq!(ids(&third), ["m3"]);
        let sent: Vec<(String, i64)> = sqlx::query_as(
            "SELECT message_id, attempts FROM mail_outbox WHERE status = 'sent' ORDER BY position",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(sent, [("m1".to_owned(), 1), ("m2".to_owned(), 1)]);
    }

    #[tokio::test]
    async fn a_round_walks_the_pending_messages_in_order_without_sorting_the_backlog() {
        let pool = outbox_with(&[]).await;
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {DUE}"))
                .bind(timestamp(Utc::now()))
                .bind(8_i64)
                .fetch_all(&pool)
                .await
                .unwrap();
        let steps: Vec<&str> = plan.iter().map(|(.., detail)| detail.as_str()).collect();
        assert!(
            steps
                .iter()
                .any(|step| step.contains("mail_outbox_pending")),
            "{steps:?}"
        );
        assert!(
            steps.iter().all(|step| !step.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }

    #[tokio::test]
    async fn handing_back_leaves_a_message_sent_meanwhile_as_it_is() {
        // Given a message claimed and then marked sent (by another process's round).
        let now = Utc::now();
        let pool = outbox_with(&[("m1", 1, now)]).await;
        claim_due(&pool, now, now + Duration::minutes(2), 10)
            .await
            .unwrap();
        mark_all_sent(&pool, &["m1".to_owned()], now).await.unwrap();

        // When a round hands it back.
        release(&pool, &["m1".to_owned()], now).await.unwrap();

        // Then it is not due again.
        assert!(claim_due(&pool, now, now, 10).await.unwrap().is_empty());
    }
}
