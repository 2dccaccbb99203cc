//! Errors of the application layer (between HTTP and the domain). The HTTP layer maps them to
//! status codes in one place (`http::error`).

use aggregates::customer::CustomerError;
use aggregates::ValidationError;
use cqrs_es::AggregateError;

use crate::provider::ProviderError;

/// Why an application operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller sent a value that breaks a rule; names the field.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Registration with an e-mail that already has an account.
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    /// Login with an unknown e-mail or a wrong password (deliberately indistinguishable).
    #[error("the e-mail address or password is incorrect")]
    InvalidCredentials,
    /// A password change whose current password is wrong.
    #[error("the current password is incorrect")]
    WrongCurrentPassword,
    /// No valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The resource does not exist (or belongs to someone else).
    #[error("not found")]
    NotFound,
    /// Another command changed the same aggregate first; the caller may retry.
    #[error("the resource was modified concurrently; retry the request")]
    Conflict,
    /// The resource is not in a state that allows this (confirming a succeeded payment…).
    #[error("{0}")]
    InvalidState(String),
    /// A second live subscription to the same plan.
    #[error("you already have a live subscription to this plan")]
    AlreadySubscribed,
    /// An Idempotency-Key was reused with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The payment provider failed or is unreachable.
    #[error("the payment provider could not complete the request")]
    PaymentProvider(#[source] ProviderError),
    /// Anything the caller did not cause. Logged; never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// Wraps an unexpected failure.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<AggregateError<CustomerError>> for AppError {
    fn from(error: AggregateError<CustomerError>) -> Self {
        match error {
            AggregateError::UserError(CustomerError::NotRegistered) => Self::NotFound,
            AggregateError::UserError(CustomerError::AlreadyRegistered)
            | AggregateError::AggregateConflict => Self::Conflict,
            other => Self::internal(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<crate::inbox::InboxError> for AppError {
    fn from(error: crate::inbox::InboxError) -> Self {
        Self::internal(error)
    }
}

impl From<ProviderError> for AppError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::InvalidPaymentMethod(message) => {
                Self::Validation(ValidationError::new("payment_method", message))
            }
            ProviderError::UnexpectedState(message) => Self::InvalidState(message),
            ProviderError::IdempotencyKeyReused => Self::Conflict,
            ProviderError::NoPaymentMethod => Self::Validation(ValidationError::new(
                "payment_method",
                "there is no payment method to charge: give one (e.g. pm_card_visa)",
            )),
            other => Self::PaymentProvider(other),
        }
    }
}
