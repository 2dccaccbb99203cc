//! Errors of the gateway layer.

/// Why the payment provider could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The provider does not know this customer.
    #[error("no such customer at the payment provider")]
    NoSuchCustomer,
    /// An idempotency key was reused with different parameters (a bug on our side).
    #[error("idempotency key reused with different parameters")]
    IdempotencyKeyReused,
    /// The provider failed, refused our credentials, or could not be reached.
    #[error("payment provider failure: {0}")]
    Provider(String),
    /// The sandbox's own storage failed.
    #[error("sandbox storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}
