//! The API's one error type and its mapping to HTTP, in one place. Every error body is
//! `{"error":{"code","message"}}` (plus `field` for validation errors); internals are logged,
//! never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

/// Anything a handler can answer with instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An application error.
    #[error(transparent)]
    App(#[from] AppError),
    /// The body is not valid JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON of the wrong shape (missing or unknown field, wrong type).
    #[error("{message}")]
    InvalidBody { field: String, message: String },
    /// The body is not declared as JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The body exceeds the limit.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// A query-string parameter is invalid.
    #[error("{message}")]
    InvalidQuery { message: String },
    /// A webhook whose signature is missing, malformed, wrong or stale.
    #[error("the Stripe-Signature header is missing, malformed, wrong or outside the tolerance")]
    InvalidSignature,
    /// A correctly signed body that is not a Stripe event.
    #[error("the body is not a Stripe event")]
    InvalidEvent,
    /// Too many requests from this client address or for this account.
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// The client did not send the request body in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// An operator asked to apply again a Stripe event that is applied already.
    #[error("this Stripe event is applied already; applying it again would change nothing")]
    AlreadyApplied,
    /// A rebuild of the same view runs already.
    #[error("{0}")]
    RebuildRunning(String),
    /// The service is up but its read models are still catching up.
    #[error("the service is starting: read models are catching up")]
    NotReady,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, Option<&str>) {
        match self {
            Self::App(error) => match error {
                AppError::Validation(v) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_error",
                    Some(v.field.as_str()),
                ),
                AppError::EmailTaken => (StatusCode::CONFLICT, "email_taken", None),
                AppError::AlreadySubscribed => (StatusCode::CONFLICT, "already_subscribed", None),
                AppError::InvalidCredentials => {
                    (StatusCode::UNAUTHORIZED, "invalid_credentials", None)
                }
                AppError::TooManyFailedLogins { .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_failed_logins",
                    None,
                ),
                AppError::WrongCurrentPassword => {
                    (StatusCode::FORBIDDEN, "invalid_current_password", None)
                }
                AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized", None),
                AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", None),
                AppError::Conflict => (StatusCode::CONFLICT, "conflict", None),
                AppError::InvalidState(_) => (StatusCode::CONFLICT, "invalid_state", None),
                AppError::IdempotencyKeyReused => {
                    (StatusCode::CONFLICT, "idempotency_key_reused", None)
                }
                AppError::ResetTokenInvalid => {
                    (StatusCode::BAD_REQUEST, "reset_token_invalid", None)
                }
                AppError::ResetTokenUsed => (StatusCode::GONE, "reset_token_used", None),
                AppError::ResetTokenExpired => (StatusCode::GONE, "reset_token_expired", None),
                AppError::PaymentProvider(_) => {
                    (StatusCode::BAD_GATEWAY, "payment_provider_error", None)
                }
                AppError::Internal(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", None)
                }
            },
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", None),
            Self::InvalidBody { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                Some(field.as_str()),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
            ),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None),
            Self::InvalidQuery { .. } => (StatusCode::BAD_REQUEST, "invalid_query", None),
            Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready", None),
            Self::AlreadyApplied => (StatusCode::CONFLICT, "already_applied", None),
            Self::RebuildRunning(_) => (StatusCode::CONFLICT, "rebuild_running", None),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", None),
            Self::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout", None),
            Self::InvalidSignature => (StatusCode::BAD_REQUEST, "invalid_signature", None),
            Self::InvalidEvent => (StatusCode::BAD_REQUEST, "invalid_event", None),
        }
    }

    /// The message shown to the caller: the error's own words, except for failures the caller
    /// did not cause, whose details stay in the log.
    fn public_message(&self) -> String {
        match self {
            Self::App(AppError::Internal(_)) => "an internal error occurred".to_owned(),
            Self::App(AppError::PaymentProvider(_)) => {
                "the payment provider could not complete the request; try again later".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Every error's body: `{"error":{"code","message"[,"field"]}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_error", "message": "amount: must be from 1 to 99999999", "field": "amount"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_error`, `not_found`, `rate_limited`…
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// The request field at fault (validation errors only), e.g. `items[1].quantity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Builds an error response from its parts.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
            field: field.map(str::to_owned),
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = self.parts();
        match &self {
            Self::App(AppError::Internal(source)) => {
                tracing::error!(error = %source, "request failed");
            }
            Self::App(AppError::PaymentProvider(source)) => {
                tracing::error!(error = %source, "payment provider failed");
            }
            _ => {}
        }
        let mut response = error_response(status, code, &self.public_message(), field);
        match self {
            Self::App(AppError::Unauthenticated) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::RateLimited {
                retry_after_seconds,
            }
            | Self::App(AppError::TooManyFailedLogins {
                retry_after_seconds,
            }) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            Self::RequestTimeout => {
                // The rest of the body may still arrive: the connection cannot be reused.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl From<aggregates::ValidationError> for ApiError {
    fn from(error: aggregates::ValidationError) -> Self {
        Self::App(AppError::Validation(error))
    }
}
