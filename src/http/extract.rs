//! Request extractors shared by the handlers.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::AppState;
use crate::auth::Claims;
use crate::error::AppError;
use crate::usecases::common::idempotency::validate_client_key;

/// The customer a bearer token names, once the token is checked: signature, expiry, and the
/// customer's state (exists, not deleted, password unchanged, token not logged out).
#[derive(Debug, Clone)]
pub struct AuthenticatedCustomer {
    pub customer_id: String,
}

impl FromRequestParts<AppState> for AuthenticatedCustomer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentSession(claims) = CurrentSession::from_request_parts(parts, state).await?;
        Ok(Self {
            customer_id: claims.sub,
        })
    }
}

/// The checked claims of the request's bearer token (what a logout ends).
#[derive(Debug, Clone)]
pub struct CurrentSession(pub Claims);

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(AppError::Unauthenticated)?;
        Ok(Self(state.sessions.authenticate(token).await?))
    }
}

/// The request id set by the request-id layer (echoed in `x-request-id`), for event metadata.
#[derive(Debug, Clone, Default)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

impl RequestId {
    /// The id, if any.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The optional `Idempotency-Key` header: printable ASCII, at most 255 characters.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value.to_str().unwrap_or_default();
        validate_client_key(key)?;
        Ok(Self(Some(key.to_owned())))
    }
}

/// The `Idempotency-Key` header, as the OpenAPI document describes it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKeyHeader {
    /// Optional. A retry with the same key and body gets the first answer; another body
    /// under the key is 409 `idempotency_key_reused`. 1 to 255 printable ASCII characters.
    #[param(
        rename = "Idempotency-Key",
        pattern = "^[!-~]{1,255}$",
        example = "order-1001"
    )]
    idempotency_key: Option<String>,
}
