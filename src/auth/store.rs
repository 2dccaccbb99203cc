//! The auth layer's SQL, kept small and portable (`$n` placeholders, `ON CONFLICT`, ISO-8601
//! UTC text times of one width, so that they also compare as text): what a token is checked
//! against on every request, logged-out tokens, and failed-login counters.

use projections::{ProjectionError, Readers};
use sqlx::{FromRow, SqlitePool};

/// What decides whether a validly signed token still holds, read in one indexed query.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TokenState {
    /// The customer's credentials version (moved on by every password change).
    pub credentials_version: i64,
    /// The customer was deleted (Stripe's `customer.deleted`).
    pub deleted: bool,
    /// This token was logged out.
    pub revoked: bool,
}

/// The state of customer `customer_id` and of token `jti`; `None` when no such customer exists.
/// Read on every authenticated request, so from this thread on a reader's connection
/// (`projections::Readers`), its statement prepared once.
pub async fn token_state(
    readers: &Readers,
    customer_id: &str,
    jti: &str,
) -> Result<Option<TokenState>, ProjectionError> {
    readers
        .read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT p.credentials_version, p.deleted, r.jti IS NOT NULL AS revoked
               FROM customer_profiles p
               LEFT JOIN revoked_tokens r ON r.jti = $2
              WHERE p.id = $1",
            )?;
            // By name: SQLite numbers `$n` parameters in order of appearance, not by their n.
            let mut rows =
                statement.query(rusqlite::named_params! { "$1": customer_id, "$2": jti })?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            Ok(Some(TokenState {
                credentials_version: row.get(0)?,
                deleted: row.get(1)?,
                revoked: row.get(2)?,
            }))
        })
        .await
}

/// Forgets revocations of tokens that have expired by `now` (they are refused by their `exp`
/// anyway). The revocations themselves are the customer-profile view's, from `SignedOut`.
pub async fn forget_expired_revocations(pool: &SqlitePool, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Failed logins of one account since its last success.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LoginFailures {
    pub failures: i64,
    pub last_failed_at: String,
}

/// Where the failed-login counters live: the node's file, or the database the nodes share
/// (PostgreSQL), so that the delays hold whichever node a guess reaches. The statements are
/// the same on both.
#[derive(Clone)]
pub enum Counters {
    Node(SqlitePool),
    Shared(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$counters` holds (each arm is checked
/// against its own database's types).
macro_rules! on_counters {
    ($counters:expr, $pool:ident => $body:expr) => {
        match $counters {
            Counters::Node($pool) => $body,
            Counters::Shared($pool) => $body,
        }
    };
}

/// The failed logins recorded for `email`.
pub async fn login_failures(
    counters: &Counters,
    email: &str,
) -> Result<Option<LoginFailures>, sqlx::Error> {
    on_counters!(counters, pool => {
        sqlx::query_as("SELECT failures, last_failed_at FROM login_failures WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await
    })
}

/// Counts one more failed login of `email` at `now` (starting again at 1 when the last one
/// was before `forget_before`) and returns the count. One statement, so racing failures on
/// any number of nodes each count.
pub async fn record_login_failure(
    counters: &Counters,
    email: &str,
    now: &str,
    forget_before: &str,
) -> Result<i64, sqlx::Error> {
    on_counters!(counters, pool => {
        sqlx::query_scalar(
            "INSERT INTO login_failures (email, failures, last_failed_at) VALUES ($1, 1, $2)
             ON CONFLICT (email) DO UPDATE SET
               failures = CASE WHEN login_failures.last_failed_at < $3 THEN 1
                               ELSE login_failures.failures + 1 END,
               last_failed_at = excluded.last_failed_at
             RETURNING failures",
        )
        .bind(email)
        .bind(now)
        .bind(forget_before)
        .fetch_one(pool)
        .await
    })
}

/// Forgets the failed logins of `email` (after a success).
pub async fn clear_login_failures(counters: &Counters, email: &str) -> Result<(), sqlx::Error> {
    on_counters!(counters, pool => {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Forgets every count whose last failure was before `forget_before`, so that guesses at
/// made-up addresses do not pile up.
pub async fn forget_old_login_failures(
    counters: &Counters,
    forget_before: &str,
) -> Result<(), sqlx::Error> {
    on_counters!(counters, pool => {
        sqlx::query("DELETE FROM login_failures WHERE last_failed_at < $1")
            .bind(forget_before)
            .execute(pool)
            .await
            .map(|_| ())
    })
}
