//! Signing up, in and out: `/register`, `/login`, `/logout`. A successful sign-up or sign-in
//! opens the session cookie and goes back to the page that asked for it (`?next=`, on this
//! site only).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::forms::{FieldErrors, FormData};
use super::page::{error_text, redirect_with, Flash, Frame, Nav, Visitor};
use super::session::{safe_return_path, sign_in, sign_out};
use crate::auth::lockout::account_key;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::limits::Guarded;
use crate::http::AppState;
use crate::usecases::customers::Registration;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-up form.
#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage {
    f: Frame,
    next: String,
    email: String,
    name: String,
    phone: String,
    errors: FieldErrors,
    message: String,
}

/// The sign-in form.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    f: Frame,
    next: String,
    email: String,
    errors: FieldErrors,
    message: String,
}

/// The sign-out confirmation (for a typed `/logout`; the menu posts directly).
#[derive(Template, WebTemplate)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    f: Frame,
}

fn next_of(query: &NextQuery) -> String {
    safe_return_path(query.next.as_deref().unwrap_or("/dashboard"))
}

/// `GET /register`.
pub async fn register_form(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    RegisterPage {
        f: visitor.frame(visitor.t.register_title, Nav::SignIn),
        next: next_of(&query),
        email: String::new(),
        name: String::new(),
        phone: String::new(),
        errors: FieldErrors::default(),
        message: String::new(),
    }
    .into_response()
}

/// `POST /register`: opens the account, signs in, goes on to the plans (or `next`).
pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let t = visitor.t;
    let registration = Registration {
        email: form.get("email"),
        password: form.raw("password"),
        name: form.get("name"),
        phone: Some(form.get("phone")).filter(|phone| !phone.is_empty()),
    };
    let next = safe_return_path(&form.get("next"));
    let long_password = registration.password.len() > crate::auth::PlainPassword::MAX_BYTES;
    match state.customers.register(registration, None).await {
        Ok(profile) => {
            let target = if next == "/dashboard" {
                "/plans"
            } else {
                &next
            };
            let mut response = redirect_with(target, Flash::Welcome);
            if let Err(error) = sign_in(&mut response, &state, &profile, &headers) {
                return super::page::app_error_page(&visitor, error);
            }
            response
        }
        Err(error) => {
            let mut errors = FieldErrors::default();
            let mut message = String::new();
            match &error {
                AppError::Validation(invalid) => {
                    let text = match invalid.field.as_str() {
                        "email" => t.err_email,
                        "password" if long_password => t.err_password_long,
                        "password" => t.err_password_length,
                        "name" => t.err_name,
                        "phone" => t.err_phone,
                        _ => t.err_invalid,
                    };
                    errors.add(invalid.field.clone(), text);
                }
                AppError::EmailTaken => errors.add("email", t.err_email_taken),
                other => message = error_text(t, other),
            }
            let page = RegisterPage {
                f: visitor.frame(t.register_title, Nav::SignIn),
                next,
                email: form.get("email"),
                name: form.get("name"),
                phone: form.get("phone"),
                errors,
                message,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    }
}

/// `GET /login`.
pub async fn login_form(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    LoginPage {
        f: visitor.frame(visitor.t.login_title, Nav::SignIn),
        next: next_of(&query),
        email: String::new(),
        errors: FieldErrors::default(),
        message: String::new(),
    }
    .into_response()
}

/// `POST /login`: signs in and goes back to `next`.
pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let t = visitor.t;
    let next = safe_return_path(&form.get("next"));
    let email = form.get("email");
    // The API's limits hold here too: a burst per account, then growing delays after failures.
    let limited = state
        .limiters
        .check_account(Guarded::Login, &account_key(&email))
        .map_err(|refused| AppError::TooManyFailedLogins {
            retry_after_seconds: match refused {
                ApiError::RateLimited {
                    retry_after_seconds,
                } => retry_after_seconds,
                _ => 1,
            },
        });
    let authenticated = match limited {
        Ok(()) => {
            state
                .login_throttle
                .guard(
                    &email,
                    state.customers.authenticate(&email, &form.raw("password")),
                )
                .await
        }
        Err(refused) => Err(refused),
    };
    match authenticated {
        Ok(profile) => {
            let mut response = redirect_with(&next, Flash::SignedIn);
            if let Err(error) = sign_in(&mut response, &state, &profile, &headers) {
                return super::page::app_error_page(&visitor, error);
            }
            response
        }
        Err(error) => {
            let message = error_text(t, &error);
            let page = LoginPage {
                f: visitor.frame(t.login_title, Nav::SignIn),
                next,
                email: form.get("email"),
                errors: FieldErrors::default(),
                message,
            };
            let status = match error {
                AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
                AppError::TooManyFailedLogins { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (status, page).into_response()
        }
    }
}

/// `GET /logout`.
pub async fn logout_form(visitor: Visitor) -> Response {
    LogoutPage {
        f: visitor.frame(visitor.t.logout_title, Nav::None),
    }
    .into_response()
}

/// `POST /logout`: ends the session's token (the API refuses it from now on) and drops the
/// cookie.
pub async fn logout(State(state): State<AppState>, visitor: Visitor) -> Response {
    let mut response = redirect_with("/", Flash::SignedOut);
    sign_out(&state, visitor.session.as_ref(), &mut response).await;
    response
}
