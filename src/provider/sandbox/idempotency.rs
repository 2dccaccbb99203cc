//! Stripe's idempotency contract, in the sandbox: the first answer to a key is replayed for the
//! same request, and a different request under the same key is refused.

use serde_json::Value;
use sqlx::SqliteConnection;

use super::unix_now;
use crate::provider::ProviderError;

/// The stored answer for `key`, if this exact request was answered before.
pub async fn remembered(
    conn: &mut SqliteConnection,
    key: &str,
    request: &Value,
) -> Result<Option<Value>, ProviderError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT request, response FROM sandbox_idempotency_keys WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((stored_request, response)) = row else {
        return Ok(None);
    };
    let same_request =
        serde_json::from_str::<Value>(&stored_request).is_ok_and(|stored| stored == *request);
    if !same_request {
        return Err(ProviderError::IdempotencyKeyReused);
    }
    serde_json::from_str(&response)
        .map(Some)
        .map_err(|error| ProviderError::Provider(format!("corrupt sandbox record: {error}")))
}

/// Stores the answer to `request` under `key`.
pub async fn remember(
    conn: &mut SqliteConnection,
    key: &str,
    request: &Value,
    response: &Value,
) -> Result<(), ProviderError> {
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
