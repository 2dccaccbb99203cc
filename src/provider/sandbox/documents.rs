//! The sandbox's stored objects: each is the Stripe-shaped JSON document of its row, read back
//! whole; one that no longer reads is reported as corrupt, never guessed at.

use serde_json::Value;

use super::store::SandboxConn;
use crate::provider::ProviderError;

/// A stored document that no longer reads as one.
pub(super) fn corrupt(what: &str) -> ProviderError {
    ProviderError::Provider(format!("corrupt sandbox {what} record"))
}

/// The Stripe-shaped document `sql` selects for `id`; `missing` when there is none.
pub(super) async fn load_document(
    conn: &mut SandboxConn,
    sql: &'static str,
    id: &str,
    missing: ProviderError,
) -> Result<Value, ProviderError> {
    let object: Option<String> = conn.value(sql, &[id.into()]).await?;
    let object = object.ok_or(missing)?;
    serde_json::from_str(&object)
        .map_err(|error| ProviderError::Provider(format!("corrupt sandbox record: {error}")))
}
