//! Who may use the console: the operator signs in with `OPERATOR_TOKEN` (compared in constant
//! time, as the operators' API does), and gets a cookie that says so until it expires — the
//! expiry signed with HMAC-SHA256 keyed by the token itself, so changing the token ends every
//! console session. The cookie is `HttpOnly`, `SameSite=Strict` and scoped to `/admin`; the
//! customers' session cookie is a different one and never opens the console.

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

/// The signature of a sign-in that expires at `expires` (Unix seconds).
fn signature(token: &Secret, expires: i64) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(token.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("billstream-console|{expires}").as_bytes());
    mac
}

/// The cookie's value for a sign-in that expires at `expires`.
fn cookie_value(token: &Secret, expires: i64) -> String {
    let signed = signature(token, expires).finalize().into_bytes();
    format!("{expires}.{}", hex::encode(signed))
}

/// True when `value` is a cookie this token signed and it has not expired.
fn valid_cookie(token: &Secret, value: &str, now: i64) -> bool {
    let Some((expires, signed)) = value.split_once('.') else {
        return false;
    };
    let (Ok(expires), Ok(signed)) = (expires.parse::<i64>(), hex::decode(signed)) else {
        return false;
    };
    expires > now && signature(token, expires).verify_slice(&signed).is_ok()
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
        let signed_in = cookie(&parts.headers, CONSOLE_COOKIE)
            .is_some_and(|value| valid_cookie(token, &value, Utc::now().timestamp()));
        if signed_in {
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
    let expires = Utc::now().timestamp() + LIFETIME_SECONDS;
    let mut response = redirect(&next);
    let secure = if over_tls(&headers) { "; Secure" } else { "" };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{CONSOLE_COOKIE}={}; Path=/admin; Max-Age={LIFETIME_SECONDS}; HttpOnly; SameSite=Strict{secure}",
        cookie_value(token, expires)
    )) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// `POST /admin/logout`: drops the console cookie and shows the sign-in form.
pub async fn logout() -> Response {
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
        let value = cookie_value(&token, 2_000);
        assert!(valid_cookie(&token, &value, 1_999));
        assert!(!valid_cookie(&token, &value, 2_000));
        let other = Secret::new("another-token".to_owned());
        assert!(!valid_cookie(&other, &value, 1_000));
        let forged = value.replacen("2000", "9000", 1);
        assert!(!valid_cookie(&token, &forged, 1_000));
        assert!(!valid_cookie(&token, "nonsense", 1_000));
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
