//! The forgotten password: `/password/forgot` asks for a link by e-mail (and always answers
//! with the same "if an account exists" page), `/password/reset?token=…` sets the new password
//! and signs the visitor in. Both call the same use case as the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::forms::{FieldErrors, FormData};
use super::page::{error_text, redirect_with, Flash, Frame, Nav, Visitor};
use super::session::sign_in;
use crate::auth::lockout::account_key;
use crate::auth::PlainPassword;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::limits::Guarded;
use crate::http::AppState;

/// The e-mail form, or the page that says a link may be on its way.
#[derive(Template, WebTemplate)]
#[template(path = "password_forgot.html")]
pub struct ForgotPage {
    f: Frame,
    sent: bool,
    email: String,
    errors: FieldErrors,
    message: String,
}

/// The new-password form; without a token, only the reason the link cannot be used.
#[derive(Template, WebTemplate)]
#[template(path = "password_reset.html")]
pub struct ResetPage {
    f: Frame,
    token: String,
    errors: FieldErrors,
    message: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn forgot_page(visitor: &Visitor, sent: bool, email: String, errors: FieldErrors) -> ForgotPage {
    ForgotPage {
        f: visitor.frame(visitor.t.forgot_title, Nav::SignIn),
        sent,
        email,
        errors,
        message: String::new(),
    }
}

/// `GET /password/forgot`.
pub async fn forgot_form(visitor: Visitor) -> Response {
    forgot_page(&visitor, false, String::new(), FieldErrors::default()).into_response()
}

/// `POST /password/forgot` (`email`): the same page whether or not the address has an account.
pub async fn forgot(State(state): State<AppState>, visitor: Visitor, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let email = form.get("email");
    // The API's per-account rate holds here too; its refusal reads like the sign-in's.
    let asked = match state
        .limiters
        .check_account(Guarded::PasswordReset, &account_key(&email))
    {
        Ok(()) => state.password_resets.request(&email, None).await,
        Err(refused) => Err(AppError::TooManyFailedLogins {
            retry_after_seconds: match refused {
                ApiError::RateLimited {
                    retry_after_seconds,
                } => retry_after_seconds,
                _ => 1,
            },
        }),
    };
    match asked {
        Ok(()) => {
            forgot_page(&visitor, true, String::new(), FieldErrors::default()).into_response()
        }
        Err(AppError::Validation(_)) => {
            let mut errors = FieldErrors::default();
            errors.add("email", visitor.t.err_email);
            let page = forgot_page(&visitor, false, email, errors);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(error) => {
            let mut page = forgot_page(&visitor, false, email, FieldErrors::default());
            page.message = error_text(visitor.t, &error);
            (StatusCode::TOO_MANY_REQUESTS, page).into_response()
        }
    }
}

fn reset_page(visitor: &Visitor, token: String, errors: FieldErrors, message: String) -> ResetPage {
    ResetPage {
        f: visitor.frame(visitor.t.reset_title, Nav::SignIn),
        token,
        errors,
        message,
    }
}

/// The page for a link that cannot be used (forged, used, expired), with its status.
fn refused(visitor: &Visitor, error: &AppError) -> Response {
    let status = match error {
        AppError::ResetTokenUsed | AppError::ResetTokenExpired => StatusCode::GONE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = reset_page(
        visitor,
        String::new(),
        FieldErrors::default(),
        error_text(visitor.t, error),
    );
    (status, page).into_response()
}

/// `GET /password/reset?token=…`: the form, if the link can still be used.
pub async fn reset_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<TokenQuery>,
) -> Response {
    let token = query.token.unwrap_or_default();
    match state.password_resets.check(&token).await {
        Ok(_) => reset_page(&visitor, token, FieldErrors::default(), String::new()).into_response(),
        Err(error) => refused(&visitor, &error),
    }
}

/// `POST /password/reset` (`token`, `password`): sets the password and signs in.
pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = visitor.t;
    let form = FormData::parse(&body);
    let token = form.raw("token");
    let password = form.raw("password");
    match state.password_resets.confirm(&token, &password, None).await {
        Ok(profile) => {
            // The reset ended every earlier session: this one starts at the new credentials.
            let mut response = redirect_with("/dashboard", Flash::PasswordChanged);
            match sign_in(&mut response, &state, &profile, &headers) {
                Ok(()) => response,
                Err(error) => super::page::app_error_page(&visitor, error),
            }
        }
        Err(AppError::Validation(_)) => {
            let mut errors = FieldErrors::default();
            let text = if password.len() > PlainPassword::MAX_BYTES {
                t.err_password_long
            } else {
                t.err_password_length
            };
            errors.add("password", text);
            let page = reset_page(&visitor, token, errors, String::new());
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(error) => refused(&visitor, &error),
    }
}
