//! Errors of the application layer (between HTTP and the domain). The HTTP layer maps them to
//! status codes in one place (`http::error`).

use aggregates::customer::CustomerError;
use aggregates::invoice::InvoiceError;
use aggregates::payment::PaymentError;
use aggregates::reconciliation::ReconciliationError;
use aggregates::subscription::SubscriptionError;
use aggregates::ValidationError;
use cqrs_es::AggregateError;

use crate::usecases::invoices::numbering::NumberingError;

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
    /// Too many failed logins for this account lately: logins wait (`auth::lockout`).
    #[error("too many failed logins for this account; retry in {retry_after_seconds} s")]
    TooManyFailedLogins { retry_after_seconds: u64 },
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
    /// A password reset token that is not ours (forged, altered, truncated) or names no
    /// reset of its customer.
    #[error("this password reset link is not valid; ask for a new one")]
    ResetTokenInvalid,
    /// A password reset token that was already used.
    #[error("this password reset link was already used; ask for a new one")]
    ResetTokenUsed,
    /// A password reset token past its expiry, or older than the last password change.
    #[error("this password reset link has expired; ask for a new one")]
    ResetTokenExpired,
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

/// A command refused by its aggregate: a broken rule is the caller's (4xx), a lost race is a
/// conflict, and anything else is ours (500, logged).
fn from_command<E: std::error::Error + Send + Sync + 'static>(
    error: AggregateError<E>,
    rule: impl FnOnce(E) -> AppError,
) -> AppError {
    match error {
        AggregateError::UserError(broken) => rule(broken),
        AggregateError::AggregateConflict => AppError::Conflict,
        other => AppError::internal(other),
    }
}

impl From<CustomerError> for AppError {
    fn from(error: CustomerError) -> Self {
        match error {
            CustomerError::NotRegistered => Self::NotFound,
            CustomerError::AlreadyRegistered => Self::Conflict,
            CustomerError::UnknownPasswordReset => Self::ResetTokenInvalid,
            CustomerError::PasswordResetUsed => Self::ResetTokenUsed,
            CustomerError::PasswordResetExpired => Self::ResetTokenExpired,
        }
    }
}

impl From<PaymentError> for AppError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::NotCreated | PaymentError::UnknownRefund => Self::NotFound,
            PaymentError::AlreadyCreated => Self::IdempotencyKeyReused,
            PaymentError::AlreadyFinal(_) | PaymentError::NotRefundable(_) => {
                Self::InvalidState(error.to_string())
            }
            PaymentError::RefundExceedsCaptured { .. } => {
                Self::Validation(ValidationError::new("amount", error.to_string()))
            }
        }
    }
}

impl From<SubscriptionError> for AppError {
    fn from(error: SubscriptionError) -> Self {
        match error {
            SubscriptionError::NotFound => Self::NotFound,
            SubscriptionError::AlreadyRequested => Self::IdempotencyKeyReused,
            SubscriptionError::Mismatch
            | SubscriptionError::NotLive
            | SubscriptionError::TrialNotEndingSoon => Self::InvalidState(error.to_string()),
        }
    }
}

impl From<InvoiceError> for AppError {
    fn from(error: InvoiceError) -> Self {
        match error {
            InvoiceError::NotCreated => Self::NotFound,
            // What a credit note asks for is the caller's input, refused against the invoice.
            InvoiceError::NoSuchLine(_)
            | InvoiceError::LineTwice(_)
            | InvoiceError::QuantityOverCredited { .. }
            | InvoiceError::OverCredited { .. } => {
                Self::Validation(ValidationError::new("lines", error.to_string()))
            }
            other => Self::InvalidState(other.to_string()),
        }
    }
}

impl From<NumberingError> for AppError {
    fn from(error: NumberingError) -> Self {
        match error {
            NumberingError::Invoice(error) => error.into(),
            NumberingError::Contention => Self::Conflict,
            NumberingError::Store(reason) => Self::internal(std::io::Error::other(reason)),
        }
    }
}

impl From<AggregateError<CustomerError>> for AppError {
    fn from(error: AggregateError<CustomerError>) -> Self {
        from_command(error, Self::from)
    }
}

impl From<AggregateError<PaymentError>> for AppError {
    fn from(error: AggregateError<PaymentError>) -> Self {
        from_command(error, Self::from)
    }
}

impl From<AggregateError<SubscriptionError>> for AppError {
    fn from(error: AggregateError<SubscriptionError>) -> Self {
        from_command(error, Self::from)
    }
}

impl From<AggregateError<InvoiceError>> for AppError {
    fn from(error: AggregateError<InvoiceError>) -> Self {
        from_command(error, Self::from)
    }
}

impl From<AggregateError<ReconciliationError>> for AppError {
    /// A run the domain refuses is a bug of the reconciler, never the caller's.
    fn from(error: AggregateError<ReconciliationError>) -> Self {
        Self::internal(error)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<projections::ProjectionError> for AppError {
    /// A read model that cannot be read is the service's failure, never the caller's.
    fn from(error: projections::ProjectionError) -> Self {
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
