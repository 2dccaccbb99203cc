//! `/api/auth/password-reset` and `/confirm`: the forgotten password, over the API. Asking
//! always answers 202, after the same delay whether or not the address has an account (see
//! `usecases::password_reset`); confirming sets the password through the e-mailed token.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::RequestId;
use super::json::ApiJson;
use super::limits::Guarded;
use super::AppState;
use crate::auth::lockout::account_key;

/// The address to send a reset link to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub(super) struct PasswordResetRequest {
    email: String,
}

/// The e-mailed token and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "6f1c2a3e-8d4b-4c55-9a61-0e2f3b4c5d6e.0b9d5c1e4f6a4e7e9d2c3b4a5f6e7d8c.q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c", "password": "a new passphrase"}))]
pub(super) struct PasswordResetConfirmation {
    /// The `token` of the link in the e-mail.
    token: String,
    /// At least 8 characters, at most 72 bytes.
    password: String,
}

/// Sends a single-use link to choose a new password, valid 30 minutes, if an account has this
/// e-mail. Answers 202 either way, at the same speed: the answer says nothing about which
/// addresses have accounts.
#[utoipa::path(post, path = "/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted: if an account has this e-mail, a link is on its way"),
    ))]
pub(super) async fn request_reset(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .limiters
        .check_account(Guarded::PasswordReset, &account_key(&body.email))?;
    state
        .password_resets
        .request(&body.email, request_id.as_deref())
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token of a reset e-mail. The token then stops working, and
/// every session and bearer token of the customer issued before ends.
#[utoipa::path(post, path = "/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "The password is changed: sign in with it"),
        (status = 400, description = "`reset_token_invalid`: not a token of this service, or \
            altered; or the usual `malformed_json`", body = ErrorBody,
            example = json!({"error": {"code": "reset_token_invalid", "message": "this password reset link is not valid; ask for a new one"}})),
        (status = 410, description = "`reset_token_used` or `reset_token_expired` (30 minutes, \
            or a password change since)", body = ErrorBody,
            example = json!({"error": {"code": "reset_token_used", "message": "this password reset link was already used; ask for a new one"}})),
    ))]
pub(super) async fn confirm_reset(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<PasswordResetConfirmation>,
) -> Result<StatusCode, ApiError> {
    state
        .password_resets
        .confirm(&body.token, &body.password, request_id.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
