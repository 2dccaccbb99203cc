//! `/api/auth/*`: registration, login, profile and password.

use aggregates::customer::FieldUpdate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use projections::CustomerProfile;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ApiError;
use super::extract::{AuthenticatedCustomer, RequestId};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use crate::usecases::customers::{ProfileChange, Registration};

/// The routes under `/api/auth`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/profile", get(profile).patch(update_profile))
        .route("/password", post(change_password))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    email: String,
    password: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateProfileRequest {
    #[serde(default)]
    name: Option<String>,
    /// Absent: keep; `null`: remove; a string: set.
    #[serde(default, deserialize_with = "present_or_null")]
    phone: FieldUpdate<String>,
}

fn present_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<FieldUpdate<String>, D::Error> {
    Ok(match Option::<String>::deserialize(deserializer)? {
        Some(value) => FieldUpdate::Set(value),
        None => FieldUpdate::Clear,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// A customer as the API shows it.
#[derive(Serialize)]
pub struct CustomerBody {
    id: String,
    email: String,
    name: String,
    phone: Option<String>,
    stripe_customer_id: String,
    created_at: String,
}

impl From<CustomerProfile> for CustomerBody {
    fn from(profile: CustomerProfile) -> Self {
        Self {
            id: profile.id,
            email: profile.email,
            name: profile.name,
            phone: profile.phone,
            stripe_customer_id: profile.stripe_customer_id,
            created_at: profile.created_at,
        }
    }
}

#[derive(Serialize)]
struct SessionBody {
    token: String,
    customer: CustomerBody,
}

fn session(state: &AppState, profile: CustomerProfile) -> Result<SessionBody, ApiError> {
    let token = state
        .jwt
        .issue(&profile.id, Utc::now().timestamp())
        .map_err(AppError::internal)?;
    Ok(SessionBody {
        token,
        customer: profile.into(),
    })
}

async fn register(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<SessionBody>), ApiError> {
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

async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<SessionBody>, ApiError> {
    let profile = state
        .customers
        .authenticate(&body.email, &body.password)
        .await?;
    Ok(Json(session(&state, profile)?))
}

/// A token whose customer no longer exists is as good as no token.
fn unknown_is_unauthenticated(error: AppError) -> AppError {
    match error {
        AppError::NotFound => AppError::Unauthenticated,
        other => other,
    }
}

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

async fn update_profile(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Json<CustomerBody>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        phone: body.phone,
    };
    let profile = state
        .customers
        .update_profile(&auth.customer_id, change, request_id.as_deref())
        .await
        .map_err(unknown_is_unauthenticated)?;
    Ok(Json(profile.into()))
}

async fn change_password(
    State(state): State<AppState>,
    auth: AuthenticatedCustomer,
    request_id: RequestId,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
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
