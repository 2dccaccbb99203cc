//! The offline sandbox: behaves like Stripe's test mode, keeping its "Stripe-side" state in its
//! own tables of the same SQLite file so it survives restarts like an external system would.

use async_trait::async_trait;
use rand::distr::Alphanumeric;
use rand::Rng;
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};

use super::{CustomerDetails, GatewayError, NewCustomer, PaymentGateway, ProviderCustomer};

/// The sandbox gateway.
#[derive(Clone)]
pub struct SandboxGateway {
    pool: SqlitePool,
}

impl SandboxGateway {
    /// A sandbox over the service's database (its tables come with the migrations).
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// A Stripe-looking id: the prefix and 24 random alphanumerics (`cus_…`).
pub fn stripe_like_id(prefix: &str) -> String {
    let suffix: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{suffix}")
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Stripe's idempotency contract: the first answer to a key is replayed for the same request,
/// and a different request under the same key is refused.
async fn remembered_response(
    conn: &mut SqliteConnection,
    key: &str,
    request: &serde_json::Value,
) -> Result<Option<serde_json::Value>, GatewayError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT request, response FROM sandbox_idempotency_keys WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Ok(None),
        Some((stored_request, response)) => {
            let same_request = serde_json::from_str::<serde_json::Value>(&stored_request)
                .is_ok_and(|stored| stored == *request);
            if !same_request {
                return Err(GatewayError::IdempotencyKeyReused);
            }
            serde_json::from_str(&response)
                .map(Some)
                .map_err(|error| GatewayError::Provider(format!("corrupt sandbox record: {error}")))
        }
    }
}

async fn remember_response(
    conn: &mut SqliteConnection,
    key: &str,
    request: &serde_json::Value,
    response: &serde_json::Value,
) -> Result<(), GatewayError> {
    sqlx::query(
        "INSERT INTO sandbox_idempotency_keys (key, request, response, created) VALUES (?, ?, ?, ?)",
    )
    .bind(key)
    .bind(request.to_string())
    .bind(response.to_string())
    .bind(unix_now())
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, GatewayError> {
        let request = json!({
            "op": "create_customer",
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "metadata": {"billstream_customer_id": customer.customer_id},
        });
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(response) = remembered_response(&mut tx, idempotency_key, &request).await? {
            tx.commit().await?;
            let id = response["id"].as_str().unwrap_or_default().to_owned();
            return Ok(ProviderCustomer { id });
        }
        let id = stripe_like_id("cus");
        sqlx::query(
            "INSERT INTO sandbox_customers (id, email, name, phone, metadata, created)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&customer.email)
        .bind(&customer.name)
        .bind(&customer.phone)
        .bind(request["metadata"].to_string())
        .bind(unix_now())
        .execute(&mut *tx)
        .await?;
        remember_response(&mut tx, idempotency_key, &request, &json!({"id": id})).await?;
        tx.commit().await?;
        Ok(ProviderCustomer { id })
    }

    async fn update_customer(
        &self,
        provider_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), GatewayError> {
        let request = json!({
            "op": "update_customer",
            "id": provider_customer_id,
            "name": details.name,
            "phone": details.phone,
        });
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if remembered_response(&mut tx, idempotency_key, &request)
            .await?
            .is_some()
        {
            tx.commit().await?;
            return Ok(());
        }
        let updated = sqlx::query(
            "UPDATE sandbox_customers SET name = ?, phone = ? WHERE id = ? AND deleted = 0",
        )
        .bind(&details.name)
        .bind(&details.phone)
        .bind(provider_customer_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(GatewayError::NoSuchCustomer);
        }
        remember_response(
            &mut tx,
            idempotency_key,
            &request,
            &json!({"id": provider_customer_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_customer(&self, provider_customer_id: &str) -> Result<(), GatewayError> {
        let deleted = sqlx::query("UPDATE sandbox_customers SET deleted = 1 WHERE id = ?")
            .bind(provider_customer_id)
            .execute(&self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(GatewayError::NoSuchCustomer);
        }
        Ok(())
    }
}
