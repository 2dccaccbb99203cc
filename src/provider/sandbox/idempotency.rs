//! Stripe's idempotency contract, in the sandbox: the first answer to a key is replayed for the
//! same request, and a different request under the same key is refused. Every mutating call of
//! the port runs through `SandboxProvider::idempotent`, in one transaction with the events it
//! queues.

use futures::future::BoxFuture;
use serde_json::Value;

use super::clock;
use super::ids::unix_now;
use super::store::SandboxConn;
use super::SandboxProvider;
use crate::provider::ProviderError;

/// What an operation on the sandbox's state answers, within the caller's transaction.
pub type Answer<'c> = BoxFuture<'c, Result<Value, ProviderError>>;

impl SandboxProvider {
    /// Runs `operation` once per idempotency key, in one transaction with the events it queues.
    pub(super) async fn idempotent<F>(
        &self,
        key: &str,
        request: Value,
        operation: F,
    ) -> Result<Value, ProviderError>
    where
        F: for<'c> FnOnce(&'c mut SandboxConn) -> Answer<'c> + Send,
    {
        let (_turn, mut tx) = self.begin_write().await?;
        if let Some(response) = remembered(&mut tx, key, &request).await? {
            return Ok(response);
        }
        let response = operation(&mut tx).await?;
        remember(&mut tx, key, &request, &response).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        Ok(response)
    }
}

/// A change to an existing sandbox object (an invoice, a subscription), made at sandbox-clock
/// time once per idempotency key.
pub trait Change: Send + 'static {
    /// The request the idempotency key is bound to, as the sandbox has always recorded it.
    fn request(&self, id: &str) -> Value;

    /// Makes the change to object `id` at sandbox time `now`; answers the object.
    fn run(self, conn: &mut SandboxConn, id: String, now: i64) -> Answer<'_>;
}

impl SandboxProvider {
    /// Makes `change` to object `id` once per idempotency key.
    pub(super) async fn change<C: Change>(
        &self,
        id: &str,
        change: C,
        key: &str,
    ) -> Result<Value, ProviderError> {
        let request = change.request(id);
        let id = id.to_owned();
        let operation = at_clock_time(move |conn, now| change.run(conn, id, now));
        self.idempotent(key, request, operation).await
    }
}

/// `operation` run at sandbox-clock time, as every billing operation is.
pub fn at_clock_time<F>(
    operation: F,
) -> impl for<'c> FnOnce(&'c mut SandboxConn) -> Answer<'c> + Send
where
    F: for<'c> FnOnce(&'c mut SandboxConn, i64) -> Answer<'c> + Send + 'static,
{
    move |conn: &mut SandboxConn| -> Answer<'_> {
        Box::pin(async move {
            let now = clock::now(conn).await?;
            operation(conn, now).await
        })
    }
}

/// The stored answer for `key`, if this exact request was answered before.
pub async fn remembered(
    conn: &mut SandboxConn,
    key: &str,
    request: &Value,
) -> Result<Option<Value>, ProviderError> {
    const SQL: &str = "SELECT request, response FROM sandbox_idempotency_keys WHERE key = $1";
    let row: Option<(String, String)> = conn.optional(SQL, &[key.into()]).await?;
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
    conn: &mut SandboxConn,
    key: &str,
    request: &Value,
    response: &Value,
) -> Result<(), ProviderError> {
    const SQL: &str = "INSERT INTO sandbox_idempotency_keys (key, request, response, created)
                       VALUES ($1, $2, $3, $4)";
    conn.execute(
        SQL,
        &[
            key.into(),
            request.to_string().into(),
            response.to_string().into(),
            unix_now().into(),
        ],
    )
    .await?;
    Ok(())
}
