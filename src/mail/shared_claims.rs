//! With several nodes on one PostgreSQL database, each node's mailer queues every message the
//! shared log calls for (same Message-ID on every node). A node sends one only after claiming
//! it in the shared database for one attempt: no two nodes send it at once, and once one has
//! sent it the others mark their copy sent without sending (`migrations/postgres/`, table
//! `mail_claims`). A node that dies mid-attempt leaves its claim to expire, and another node
//! sends the message then — at least once, as on one node.

use std::time::Duration;

use sqlx::PgPool;

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedClaim {
    /// This node holds the message for one attempt.
    Held,
    /// Another node holds it now; look again later.
    HeldElsewhere,
    /// Another node (or this one, before a crash) has sent it.
    SentAlready,
}

/// The nodes' claims on messages.
#[derive(Clone)]
pub struct SharedClaims {
    pool: PgPool,
    node: String,
}

impl SharedClaims {
    /// Claims in `pool`'s `mail_claims`, as node `node` (a name for operators: host and port).
    pub fn new(pool: PgPool, node: String) -> Self {
        Self { pool, node }
    }

    /// Holds `message_id` for `lease`, unless another node holds it or has sent it.
    pub async fn claim(
        &self,
        message_id: &str,
        lease: Duration,
    ) -> Result<SharedClaim, sqlx::Error> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let held: Option<String> = sqlx::query_scalar(
            "INSERT INTO mail_claims (message_id, node, held_until)
             VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3 / 1000.0))
             ON CONFLICT (message_id) DO UPDATE
                SET node = excluded.node, held_until = excluded.held_until
              WHERE mail_claims.sent_at IS NULL
                AND (mail_claims.held_until < clock_timestamp() OR mail_claims.node = excluded.node)
             RETURNING node",
        )
        .bind(message_id)
        .bind(&self.node)
        .bind(lease_ms as f64)
        .fetch_optional(&self.pool)
        .await?;
        if held.is_some() {
            return Ok(SharedClaim::Held);
        }
        let sent: Option<bool> =
            sqlx::query_scalar("SELECT sent_at IS NOT NULL FROM mail_claims WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match sent {
            Some(true) => SharedClaim::SentAlready,
            _ => SharedClaim::HeldElsewhere,
        })
    }

    /// Records that this node sent `message_id`: no node sends it again.
    pub async fn sent(&self, message_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE mail_claims SET sent_at = clock_timestamp() WHERE message_id = $1")
            .bind(message_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
