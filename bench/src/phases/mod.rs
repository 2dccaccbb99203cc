//! What the run asks of the service, one job per file; each returns its raw measurements and
//! leaves the ratios to `main`.

pub mod commands;
pub mod ingest;
pub mod logins;
pub mod reads;
pub mod stream;

use std::time::{Duration, Instant};

use anyhow::bail;
use billstream_bench::service::ServiceSpec;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;

/// Waits until the inbox has nothing pending and every projection has the whole log; returns
/// when that was first seen (polled every 10 ms).
pub async fn wait_until_applied(spec: &ServiceSpec, limit: Duration) -> anyhow::Result<Instant> {
    let options: SqliteConnectOptions = spec.database_url().parse()?;
    let mut conn = options.connect().await?;
    let deadline = Instant::now() + limit;
    loop {
        let (pending, behind): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'),
                    (SELECT COUNT(*) FROM projection_checkpoints
                      WHERE position < (SELECT COALESCE(MAX(position), 0) FROM events))",
        )
        .fetch_one(&mut conn)
        .await?;
        if pending == 0 && behind == 0 {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("{pending} events still pending after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
