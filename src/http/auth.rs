//! `/api/auth/*`: registration, login, logout, profile (with the e-mail preferences) and
//! password; the forgotten password's routes are in `password_reset.rs`.

use aggregates::customer::{FieldUpdate, MailLanguage};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use projections::CustomerProfile;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthenticatedCustomer, CurrentSession, RequestId};
use super::json::ApiJson;
use super::limits::Guarded;
use super::profile_billing::{billing_update, BillingBody, BillingRequest};
use super::AppState;
use crate::auth::lockout::account_key;
use crate::error::AppError;
use crate::usecases::customers::{ProfileChange, Registration};

/// The routes under `/api/auth`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(profile, update_profile))
        .routes(routes!(change_password))
        .routes(routes!(logout))
        .routes(routes!(super::password_reset::request_reset))
        .routes(routes!(super::password_reset::confirm_reset))
        // Credentials are small: refuse anything bigger before reading it all.
        .layer(DefaultBodyLimit::max(MAX_AUTH_BODY_BYTES))
}

/// The largest body `/api/auth/*` accepts (8 KiB).
pub const MAX_AUTH_BODY_BYTES: usize = 8 * 1024;

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse", "name": "Ada Lovelace", "phone": "+33 6 12 34 56 78"}))]
struct RegisterRequest {
    /// Trimmed and lower-cased; unique in any case.
    email: String,
    /// At least 8 characters, at most 72 bytes.
    password: String,
    /// Not blank.
    name: String,
    #[serde(default)]
    phone: Option<String>,
}

/// An e-mail and its password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse"}))]
struct LoginRequest {
    email: String,
    password: String,
}

/// The fields to change; absent fields are kept.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada King", "phone": null, "language": "en", "receipts": false}))]
struct UpdateProfileRequest {
    #[serde(default)]
    name: Option<String>,
    /// Absent: keep; `null`: remove; a string: set.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>)]
    phone: FieldUpdate<String>,
    /// The language of the customer's e-mail: `fr` or `en`.
    #[serde(default)]
    language: Option<String>,
    /// Whether payment and refund receipts are e-mailed (invoices, failed-payment notices and
    /// password resets always are).
    #[serde(default)]
    receipts: Option<bool>,
    /// Absent: keep; `null`: remove; an object: replace the billing details (invoices
    /// finalized later carry them).
    #[serde(default, deserialize_with = "billing_update")]
    #[schema(value_type = Option<BillingRequest>)]
    billing: FieldUpdate<BillingRequest>,
}

fn present_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<FieldUpdate<String>, D::Error> {
    Ok(match Option::<String>::deserialize(deserializer)? {
        Some(value) => FieldUpdate::Set(value),
        None => FieldUpdate::Clear,
    })
}

/// The current password and its replacement (at least 8 characters, at most 72 bytes).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse", "new_password": "a new passphrase"}))]
struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// A customer as the API shows it (never its password hash).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c2a3e-8d4b-4c55-9a61-0e2f3b4c5d6e", "email": "ada@example.com", "name": "Ada Lovelace", "phone": "+33 6 12 34 56 78", "stripe_customer_id": "cus_Q1w2E3r4T5y6U7", "created_at": "2026-11-23T23:50:00.000Z", "language": null, "receipts": true}))]
pub struct CustomerBody {
    id: String,
    email: String,
    name: String,
    phone: Option<String>,
    stripe_customer_id: String,
    /// RFC 3339, UTC.
    created_at: String,
    /// The language of the customer's e-mail (`fr`, `en`); `null`: the service's default.
    language: Option<String>,
    /// Whether payment and refund receipts are e-mailed.
    receipts: bool,
    /// Company, SIREN, VAT number and billing address; `null` when none were given.
    billing: Option<BillingBody>,
}

impl From<CustomerProfile> for CustomerBody {
    fn from(profile: CustomerProfile) -> Self {
        let billing = profile.billing_details().map(BillingBody::from);
        Self {
            id: profile.id,
            email: profile.email,
            name: profile.name,
            phone: profile.phone,
            stripe_customer_id: profile.stripe_customer_id,
            created_at: profile.created_at,
            language: profile.mail_language,
            receipts: profile.mail_receipts,
            billing,
        }
    }
}

/// A bearer token and the customer it belongs to.
#[derive(Serialize, ToSchema)]
struct SessionBody {
    /// HS256 JWT: `Authorization: Bearer <token>` on every customer route.
    #[schema(example = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2ZjFjIn0.c2lnbmF0dXJl")]
    token: String,
    customer: CustomerBody,
}

fn session(state: &AppState, profile: CustomerProfile) -> Result<SessionBody, ApiError> {
    let token = state.sessions.issue(&profile)?;
    Ok(SessionBody {
        token,
        customer: profile.into(),
    })
}

/// Opens an account (and its Stripe customer) and signs the customer in.
#[utoipa::path(post, path = "/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account and a bearer token", body = SessionBody),
        (status = 409, description = "`email_taken`: an account has this e-mail", body = ErrorBody,
            example = json!({"error": {"code": "email_taken", "message": "an account with this e-mail address already exists"}})),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<SessionBody>), ApiError> {
    state
        .limiters
        .check_account(Guarded::Register, &account_key(&body.email))?;
    let registration = Registration {
        email: body.email,
        password: body.password,
        name: body.name,
        phone: body.phone,
    };
    let profile = state
        .customers
        .register(registration, request_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(session(&state, profile)?)))
}

/// Signs in. An unknown e-mail and a wrong password answer the same 401; from the fifth
/// failure in a row an account waits (429 `too_many_failed_logins`, growing delays).
#[utoipa::path(post, path = "/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "A bearer token and the customer", body = SessionBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody,
            example = json!({"error": {"code": "invalid_credentials", "message": "the e-mail address or password is incorrect"}})),
    ))]
async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<SessionBody>, ApiError> {
    state
        .limiters
        .check_account(Guarded::Login, &account_key(&body.email))?;
    let profile = state
        .login_throttle
        .guard(
            &body.email,
            state.customers.authenticate(&body.email, &body.password),
        )
        .await?;
    Ok(Json(session(&state, profile)?))
}

/// Ends the token this request carries: it is refused from now on. Other tokens of the
/// customer stay valid.
#[utoipa::path(post, path = "/logout", tag = "auth", security(("customer_token" = [])),
    responses((status = 204, description = "The token is ended")))]
async fn logout(
    State(state): State<AppState>,
    CurrentSession(claims): CurrentSession,
) -> Result<StatusCode, ApiError> {
    state.sessions.logout(&claims).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A token whose customer no longer exists is as good as no token.
fn unknown_is_unauthenticated(error: AppError) -> AppError {
    match error {
        AppError::NotFound => AppError::Unauthenticated,
        other => other,
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/profile", tag = "auth", security(("customer_token" = [])),
    responses((status = 200, description = "The customer", body = CustomerBody)))]
async fn profile(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
) -> Result<Json<CustomerBody>, ApiError> {
    let profile = state
        .customers
        .profile(&auth.customer_id)
        .await
        .map_err(unknown_is_unauthenticated)?;
    Ok(Json(profile.into()))
}

/// Changes name and/or phone (also at the Stripe customer), the e-mail preferences and the
/// billing details. Every field is checked before anything changes.
#[utoipa::path(patch, path = "/profile", tag = "auth", security(("customer_token" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The updated customer", body = CustomerBody),
        (status = 409, description = "`conflict`: changed concurrently; retry", body = ErrorBody),
        (status = 422, description = "`validation_error`: a field is not valid (`field` names it)", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn update_profile(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Json<CustomerBody>, ApiError> {
    // Every field is checked before anything changes.
    let language = body
        .language
        .as_deref()
        .map(MailLanguage::parse)
        .transpose()?;
    let billing = match body.billing {
        FieldUpdate::Keep => None,
        FieldUpdate::Clear => Some(None),
        FieldUpdate::Set(billing) => Some(Some(billing.parse()?)),
    };
    let change = ProfileChange {
        name: body.name,
        phone: body.phone,
    };
    state
        .customers
        .update_profile(&auth.customer_id, change, request_id.as_deref())
        .await
        .map_err(unknown_is_unauthenticated)?;
    if let Some(billing) = billing {
        state
            .customers
            .change_billing_details(&auth.customer_id, billing, request_id.as_deref())
            .await
            .map_err(unknown_is_unauthenticated)?;
    }
    let profile = state
        .customers
        .change_mail_preferences(
            &auth.customer_id,
            language,
            body.receipts,
            request_id.as_deref(),
        )
        .await
        .map_err(unknown_is_unauthenticated)?;
    Ok(Json(profile.into()))
}

/// Replaces the password. Every token issued before the change stops working (this one
/// too): sign in again with the new password.
#[utoipa::path(post, path = "/password", tag = "auth", security(("customer_token" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "`invalid_current_password`", body = ErrorBody,
            example = json!({"error": {"code": "invalid_current_password", "message": "the current password is incorrect"}})),
        (status = 409, description = "`conflict`: changed concurrently; retry", body = ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .limiters
        .check_account(Guarded::Password, &auth.customer_id)?;
    state
        .customers
        .change_password(
            &auth.customer_id,
            &body.current_password,
            &body.new_password,
            request_id.as_deref(),
        )
        .await
        .map_err(unknown_is_unauthenticated)?;
    Ok(StatusCode::NO_CONTENT)
}
