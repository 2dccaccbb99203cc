//! Errors of the provider layer.

/// Why the payment provider could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider does not know this customer.
    #[error("no such customer at the payment provider")]
    NoSuchCustomer,
    /// The provider does not know this PaymentIntent.
    #[error("no such payment intent at the payment provider")]
    NoSuchPaymentIntent,
    /// The provider does not know this subscription.
    #[error("no such subscription at the payment provider")]
    NoSuchSubscription,
    /// The provider does not know this invoice.
    #[error("no such invoice at the payment provider")]
    NoSuchInvoice,
    /// The customer has no payment method to charge.
    #[error("the customer has no default payment method")]
    NoPaymentMethod,
    /// The payment method is unknown or unusable (the caller's mistake).
    #[error("{0}")]
    InvalidPaymentMethod(String),
    /// The object is not in a state that allows this (e.g. confirming a succeeded intent, or
    /// refunding more than remains): usually another request got there first.
    #[error("{0}")]
    UnexpectedState(String),
    /// An idempotency key was reused with different parameters.
    #[error("idempotency key reused with different parameters")]
    IdempotencyKeyReused,
    /// The provider failed, refused our credentials, or could not be reached.
    #[error("payment provider failure: {0}")]
    Provider(String),
    /// The sandbox's own storage failed.
    #[error("sandbox storage failed: {0}")]
    Storage(#[from] StorageError),
}

/// Why the sandbox's database failed: PostgreSQL's (through sqlx) or the node's file (SQLite,
/// called directly). A second enum in this layer because the sandbox's storage helpers (its
/// statements, the outbox's delivery) fail only in these ways and return it on their own; a
/// caller of the provider sees it as [`ProviderError::Storage`], mapped to HTTP with the rest.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// PostgreSQL, where the nodes share the sandbox, failed or could not be reached.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// A statement on the node's SQLite file failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The connection could not be opened, or the thread that committed stopped.
    #[error("{0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for ProviderError {
    fn from(error: sqlx::Error) -> Self {
        ProviderError::Storage(error.into())
    }
}

impl From<rusqlite::Error> for ProviderError {
    fn from(error: rusqlite::Error) -> Self {
        ProviderError::Storage(error.into())
    }
}
