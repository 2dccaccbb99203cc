//! The harness's side of the API and of the database file.

use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};

use billstream_bench::service::ServiceSpec;

pub use billstream_bench::api::{register, Customer};

/// Creates a PaymentIntent; the payment id and intent id when acknowledged.
pub async fn create_intent(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    amount: i64,
) -> Option<(String, String)> {
    let response = client
        .post(format!("{base}/api/payments/create-intent"))
        .bearer_auth(&customer.token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": amount, "currency": "eur"}))
        .send()
        .await
        .ok()?;
    if response.status() != reqwest::StatusCode::CREATED {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    Some((
        body["payment_id"].as_str()?.to_owned(),
        body["payment_intent_id"].as_str()?.to_owned(),
    ))
}

/// Confirms with a card that succeeds; the HTTP status and the payment's status.
pub async fn confirm(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    payment_intent_id: &str,
) -> Option<(u16, String)> {
    let response = client
        .post(format!("{base}/api/payments/confirm"))
        .bearer_auth(&customer.token)
        .json(&json!({"payment_intent_id": payment_intent_id, "payment_method": "pm_card_visa"}))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Some((
        status,
        body["status"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// Refunds `amount`; the HTTP status.
pub async fn refund(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    payment_id: &str,
    amount: i64,
) -> Option<u16> {
    let response = client
        .post(format!("{base}/api/payments/{payment_id}/refund"))
        .bearer_auth(&customer.token)
        .json(&json!({"amount": amount}))
        .send()
        .await
        .ok()?;
    Some(response.status().as_u16())
}

/// A connection to the service's database file, for checks.
pub async fn open(database_url: &str) -> anyhow::Result<SqliteConnection> {
    let options: SqliteConnectOptions = database_url.parse()?;
    Ok(options.connect().await?)
}

/// Counts of a scalar query.
pub async fn count(conn: &mut SqliteConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(conn).await?)
}

/// Waits until no Stripe event is pending and every projection has the whole log.
pub async fn wait_until_settled(
    spec: &ServiceSpec,
    limit: std::time::Duration,
) -> anyhow::Result<()> {
    let mut conn = open(&spec.database_url()).await?;
    let deadline = std::time::Instant::now() + limit;
    loop {
        let pending = shared_count(
            spec,
            "SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'",
        )
        .await?;
        let behind = count(
            &mut conn,
            "SELECT COUNT(*) FROM projection_checkpoints
              WHERE position < (SELECT COALESCE(MAX(position), 0) FROM events)",
        )
        .await?;
        if pending + behind == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "still unsettled after {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A count over the webhook inbox or the offline sandbox, wherever the service keeps them: the
/// node's file, or the database the nodes share on PostgreSQL. `sql` must read the same on both.
pub async fn shared_count(spec: &ServiceSpec, sql: &str) -> anyhow::Result<i64> {
    Ok(match &spec.shared_log {
        Some(url) => {
            let mut shared = PgConnection::connect(url).await?;
            sqlx::query_scalar(sql).fetch_one(&mut shared).await?
        }
        None => count(&mut open(&spec.database_url()).await?, sql).await?,
    })
}

/// The ids of every event the webhook inbox holds, wherever it is.
pub async fn inbox_ids(spec: &ServiceSpec) -> anyhow::Result<Vec<String>> {
    let sql = "SELECT event_id FROM stripe_inbox";
    Ok(match &spec.shared_log {
        Some(url) => {
            let mut shared = PgConnection::connect(url).await?;
            sqlx::query_scalar(sql).fetch_all(&mut shared).await?
        }
        None => {
            sqlx::query_scalar(sql)
                .fetch_all(&mut open(&spec.database_url()).await?)
                .await?
        }
    })
}
