//! The session: an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over TLS) carrying the same JWT
//! the API accepts as a bearer token, renewed while it is used; the extractor of signed-in
//! pages, which sends a signed-out visitor to `/login` and back after signing in; and the rule
//! that a return path never points off-site.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{COOKIE, REFERER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;

use super::page::{has_flash, redirect_with, Flash, Visitor};
use crate::auth::Claims;
use crate::error::AppError;
use crate::http::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bs_session";

/// A valid session: the claims of a token the API would accept too.
#[derive(Debug, Clone)]
pub struct Session {
    pub customer_id: String,
    claims: Claims,
}

/// The value of cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The session the `renew` middleware already checked for this request.
#[derive(Clone)]
struct Checked(Option<Session>);

/// The request's session: the one `renew` checked, or checked here (a route outside it).
pub async fn of_request(parts: &Parts, state: &AppState) -> Option<Session> {
    match parts.extensions.get::<Checked>() {
        Some(Checked(session)) => session.clone(),
        None => from_headers(&parts.headers, state).await,
    }
}

/// The session of a request whose cookie holds a token the API would accept: validly signed,
/// unexpired, not signed out, its customer present and its password unchanged since.
pub async fn from_headers(headers: &HeaderMap, state: &AppState) -> Option<Session> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let claims = state.sessions.authenticate(&token).await.ok()?;
    Some(Session {
        customer_id: claims.sub.clone(),
        claims,
    })
}

/// True when the visitor reached us over TLS (directly or through a proxy that says so).
pub fn over_tls(headers: &HeaderMap) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    header("x-forwarded-proto").is_some_and(|proto| proto.trim() == "https")
        || header("forwarded").is_some_and(|forwarded| forwarded.contains("proto=https"))
}

/// The `Set-Cookie` value that opens a session with `token` for `max_age` seconds.
fn session_cookie(token: &str, max_age: i64, headers: &HeaderMap) -> Option<HeaderValue> {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// Signs the customer of `profile` in on `response`, with a token at its current credentials.
pub fn sign_in(
    response: &mut Response,
    state: &AppState,
    profile: &projections::CustomerProfile,
    request_headers: &HeaderMap,
) -> Result<(), AppError> {
    let token = state.sessions.issue(profile)?;
    set_session_cookie(response, state, &token, request_headers);
    Ok(())
}

fn set_session_cookie(
    response: &mut Response,
    state: &AppState,
    token: &str,
    request_headers: &HeaderMap,
) {
    let lifetime = state
        .jwt
        .verify(token)
        .map(|claims| claims.exp - claims.iat)
        .unwrap_or(3600);
    if let Some(value) = session_cookie(token, lifetime, request_headers) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Ends `session`'s token on every node (it is refused from now on, by the API too), and
/// drops the cookie on `response`.
pub async fn sign_out(state: &AppState, session: Option<&Session>, response: &mut Response) {
    if let Some(session) = session {
        if let Err(error) = state.sessions.logout(&session.claims).await {
            tracing::warn!(%error, "could not end a portal session's token");
        }
    }
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("bs_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
}

/// `raw` if it is a path on this site, else `/dashboard`: never `//host`, `/\host`, a scheme,
/// or a control character, so a sign-in link cannot send anyone elsewhere.
pub fn safe_return_path(raw: &str) -> String {
    let safe = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.contains(['\\', '\r', '\n', '\t'])
        && !raw.chars().any(char::is_control)
        && raw.len() <= 1024;
    if safe {
        raw.to_owned()
    } else {
        "/dashboard".to_owned()
    }
}

/// A signed-in visitor: the extractor of every protected page.
pub struct SignedIn {
    pub visitor: Visitor,
    pub customer_id: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(visitor) = Visitor::from_request_parts(parts, state).await;
        match visitor.session.clone() {
            Some(session) => Ok(Self {
                visitor,
                customer_id: session.customer_id,
            }),
            None => {
                // After a form post, come back to the page the form was on.
                let back = if parts.method == Method::GET {
                    visitor.path.clone()
                } else {
                    parts
                        .headers
                        .get(REFERER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(url_path)
                        .unwrap_or_else(|| "/dashboard".to_owned())
                };
                let next = safe_return_path(&back);
                Err(redirect_with(
                    &format!("/login?next={}", super::forms::encode(&next)),
                    Flash::SessionExpired,
                ))
            }
        }
    }
}

/// The path and query of an absolute URL.
fn url_path(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let start = rest.find('/')?;
    Some(rest[start..].to_owned())
}

/// Middleware: renews a session past half its lifetime (the visitor stays signed in while
/// active), and forgets a flash message once a page has shown it.
pub async fn renew(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let session = from_headers(&headers, &state).await;
    // The page's own extractor reads the session from here: one check per request.
    request.extensions_mut().insert(Checked(session.clone()));
    let flash_shown = has_flash(&headers);
    let mut response = next.run(request).await;
    let sets_cookie = |response: &Response, name: &str| {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|value| value.as_bytes().starts_with(name.as_bytes()))
    };
    if let Some(session) = session {
        let now = Utc::now().timestamp();
        let claims = &session.claims;
        let half_life = (claims.exp - claims.iat) / 2;
        if now - claims.iat > half_life && !sets_cookie(&response, SESSION_COOKIE) {
            match state.sessions.reissue(claims) {
                Ok(token) => set_session_cookie(&mut response, &state, &token, &headers),
                Err(error) => tracing::warn!(%error, "could not renew a portal session"),
            }
        }
    }
    let is_page = response.status().is_success() || response.status().is_client_error();
    if flash_shown && is_page && !sets_cookie(&response, "bs_flash=") {
        super::page::clear_flash(&mut response);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_the_site() {
        assert_eq!(
            safe_return_path("/invoices?status=open"),
            "/invoices?status=open"
        );
        for hostile in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/ok\r\nSet-Cookie: x=y",
            "evil",
            "",
        ] {
            assert_eq!(safe_return_path(hostile), "/dashboard", "{hostile:?}");
        }
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; bs_session=tok; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn referers_give_their_path() {
        assert_eq!(
            url_path("http://127.0.0.1:8080/dashboard?x=1").as_deref(),
            Some("/dashboard?x=1")
        );
        assert_eq!(url_path("nonsense"), None);
    }
}
