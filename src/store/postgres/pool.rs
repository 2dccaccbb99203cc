//! The PostgreSQL pool and migrations.
//!
//! The URL is libpq's (`postgres://user:password@host:port/database?sslmode=…`); the pool's
//! size and every statement's timeout come from [`PgSettings`]. Migrations run under sqlx's
//! advisory lock, so nodes starting together apply each one once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// The PostgreSQL schema: `migrations/postgres/` (the SQLite ones are the folder above).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How a node uses its database.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// Connections this node may hold (PostgreSQL's `max_connections` is shared by all nodes).
    pub max_connections: u32,
    /// Longest any statement may run before the server cancels it.
    pub statement_timeout: Duration,
    /// Longest a caller waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(15),
        }
    }
}

/// A pool on the database at `url`.
///
/// One connection is opened first, on its own: a pool retries a refused or unreachable server
/// until its acquire timeout and then only says it timed out, while the operator needs the
/// reason (refused, authentication, TLS) at once.
pub async fn connect(url: &str, settings: &PgSettings) -> Result<PgPool, sqlx::Error> {
    let timeout_ms = settings.statement_timeout.as_millis().to_string();
    let options = PgConnectOptions::from_str(url)?
        .application_name("billstream")
        .options([("statement_timeout", timeout_ms.as_str())]);
    let first = tokio::time::timeout(settings.acquire_timeout, options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    first.close().await?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
}

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}
