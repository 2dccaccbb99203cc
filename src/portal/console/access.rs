//! Who may use the console: the operator signs in with `OPERATOR_TOKEN` (compared in constant
//! time, as the operators' API does), and gets a cookie that says so until it expires — the
//! sign-in time signed with HMAC-SHA256 keyed by the token itself, so changing the token ends
//! every console session. Signing out records the time in the database (`console_signouts`),
//! and every cookie issued before it is refused from then on, on every node. The cookie is
//! `HttpOnly`, `SameSite=Strict` and scoped to `/admin`; the customers' session cookie is a
//! different one and never opens the console.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use sqlx::SqlitePool;
use subtle::ConstantTimeEq;

use super::super::forms::{encode, FormData};
use super::super::page::redirect;
use super::super::session::{cookie, over_tls};
use super::ConsoleFrame;
use crate::config::Secret;
use crate::http::AppState;

/// The console's cookie (never sent outside `/admin`).
const CONSOLE_COOKIE: &str = "bs_console";
/// How long a console sign-in lasts, seconds (a working day).
const LIFETIME_SECONDS: i64 = 8 * 3600;

/// The signature of a sign-in made at `issued_ms` (Unix milliseconds).
fn signature(token: &Secret, issued_ms: i64) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(token.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("billstream-console|{issued_ms}").as_bytes());
    mac
}

/// The cookie's value for a sign-in made at `issued_ms`.
fn cookie_value(token: &Secret, issued_ms: i64) -> String {
    let signed = signature(token, issued_ms).finalize().into_bytes();
    format!("{issued_ms}.{}", hex::encode(signed))
}

/// True when `value` is a cookie this token signed after the last sign-out
/// (`signed_out_ms`) and it has not expired at `now_ms`.
fn valid_cookie(token: &Secret, value: &str, now_ms: i64, signed_out_ms: i64) -> bool {
    let Some((issued, signed)) = value.split_once('.') else {
        return false;
    };
    let (Ok(issued), Ok(signed)) = (issued.parse::<i64>(), hex::decode(signed)) else {
        return false;
    };
    let expires = issued.saturating_add(LIFETIME_SECONDS * 1000);
    issued > signed_out_ms
        && expires > now_ms
        && signature(token, issued).verify_slice(&signed).is_ok()
}

/// When the operator last signed out (Unix milliseconds; 0 if never).
async fn last_sign_out(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(signed_out_at_ms), 0) FROM console_signouts")
        .fetch_one(pool)
        .await
}

/// True when the request carries a console cookie that is valid now.
async fn signed_in(
    headers: &HeaderMap,
    state: &AppState,
    token: &Secret,
) -> Result<bool, Response> {
    let Some(value) = cookie(headers, CONSOLE_COOKIE) else {
        return Ok(false);
    };
    let signed_out = last_sign_out(&state.pool).await.map_err(|error| {
        tracing::error!(%error, "the console could not read the last sign-out");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    Ok(valid_cookie(
        token,
        &value,
        Utc::now().timestamp_millis(),
        signed_out,
    ))
}

/// True when `given` is the operator token (constant time, like the API's check).
fn is_operator_token(expected: &Secret, given: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes()))
}

/// A signed-in operator: the extractor of every console page but the sign-in form. A visitor
/// without a valid console cookie is sent to `/admin/login` (and back after signing in).
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = &state.operator_token else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        if signed_in(&parts.headers, state, token).await? {
            return Ok(Operator);
        }
        let back = parts
            .uri
            .path_and_query()
            .map_or("/admin", |pq| pq.as_str());
        Err(redirect(&format!(
            "/admin/login?next={}",
            encode(&console_path(back))
        )))
    }
}

/// `raw` if it is a console path, else the console's first page: signing in never sends
/// anyone elsewhere.
fn console_path(raw: &str) -> String {
    let safe = super::super::session::safe_return_path(raw);
    if safe == "/admin" || safe.starts_with("/admin/") || safe.starts_with("/admin?") {
        safe
    } else {
        "/admin".to_owned()
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Template, WebTemplate)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    f: ConsoleFrame,
    next: String,
    message: &'static str,
}

/// `GET /admin/login`.
pub async fn login_form(Query(query): Query<NextQuery>) -> Response {
    LoginPage {
        f: ConsoleFrame::signed_out("Sign in"),
        next: console_path(query.next.as_deref().unwrap_or("/admin")),
        message: "",
    }
    .into_response()
}

/// `POST /admin/login`: the right token opens the console and goes on to `next`; a wrong one
/// shows the form again with the message.
pub async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = &state.operator_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let form = FormData::parse(&body);
    let next = console_path(&form.get("next"));
    if !is_operator_token(token, &form.raw("token")) {
        tracing::warn!("a console sign-in with a wrong operator token was refused");
        let page = LoginPage {
            f: ConsoleFrame::signed_out("Sign in"),
            next,
            message: "That is not the operator token.",
        };
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let mut response = redirect(&next);
    let secure = if over_tls(&headers) { "; Secure" } else { "" };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{CONSOLE_COOKIE}={}; Path=/admin; Max-Age={LIFETIME_SECONDS}; HttpOnly; SameSite=Strict{secure}",
        cookie_value(token, Utc::now().timestamp_millis())
    )) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// `POST /admin/logout`: ends every console session signed in until now (when the request
/// comes from one: a stranger cannot sign the operator out), drops the cookie and shows the
/// sign-in form.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.operator_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match signed_in(&headers, &state, token).await {
        Ok(true) => {
            if let Err(error) = sqlx::query(
                "INSERT INTO console_signouts (id, signed_out_at_ms) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE \
                 SET signed_out_at_ms = MAX(signed_out_at_ms, excluded.signed_out_at_ms)",
            )
            .bind(Utc::now().timestamp_millis())
            .execute(&state.pool)
            .await
            {
                tracing::error!(%error, "the console could not record a sign-out");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
        Ok(false) => {}
        Err(unavailable) => return unavailable,
    }
    let mut response = redirect("/admin/login");
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("bs_console=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_valid_until_it_expires_and_only_for_its_token() {
        let token = Secret::new("the-operator-token".to_owned());
        let issued = 2_000;
        let expires = issued + LIFETIME_SECONDS * 1000;
        let value = cookie_value(&token, issued);
        assert!(valid_cookie(&token, &value, expires - 1, 0));
        assert!(!valid_cookie(&token, &value, expires, 0));
        let other = Secret::new("another-token".to_owned());
        assert!(!valid_cookie(&other, &value, 3_000, 0));
        let forged = value.replacen("2000", "9000", 1);
        assert!(!valid_cookie(&token, &forged, 3_000, 0));
        assert!(!valid_cookie(&token, "nonsense", 3_000, 0));
    }

    #[test]
    fn a_sign_out_ends_every_cookie_issued_before_it() {
        let token = Secret::new("the-operator-token".to_owned());
        let value = cookie_value(&token, 2_000);
        assert!(valid_cookie(&token, &value, 3_000, 1_999));
        assert!(!valid_cookie(&token, &value, 3_000, 2_000));
        assert!(!valid_cookie(&token, &value, 3_000, 2_500));
    }

    #[test]
    fn signing_in_only_returns_to_console_pages() {
        assert_eq!(
            console_path("/admin/inbox?status=parked"),
            "/admin/inbox?status=parked"
        );
        assert_eq!(console_path("/dashboard"), "/admin");
        assert_eq!(console_path("//evil.example/admin"), "/admin");
        assert_eq!(console_path("/administrator"), "/admin");
    }
}
