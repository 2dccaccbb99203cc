//! Security headers on every portal response, in one place: a Content-Security-Policy that
//! allows scripts from billstream only (plus Stripe.js's origin in Stripe mode, which Stripe
//! requires), no framing, no MIME sniffing, no referrer to other sites, and no caching of
//! pages that show a customer's data.

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::AppState;

/// The policy in sandbox mode: everything from billstream itself, nothing inline.
const SANDBOX_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'none'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy in Stripe mode: Stripe.js from `https://js.stripe.com`, its frames (Elements,
/// 3-D Secure) and its API, as Stripe documents.
const STRIPE_POLICY: &str = "default-src 'self'; script-src 'self' https://js.stripe.com; \
    style-src 'self'; img-src 'self' data: https://*.stripe.com; \
    connect-src 'self' https://api.stripe.com; font-src 'self'; \
    frame-src https://js.stripe.com https://hooks.stripe.com; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Middleware: the headers on every response of the portal.
pub async fn secure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    apply(response.headers_mut(), state.sandbox.is_none());
    response
}

/// Adds the security headers (`stripe_mode`: allow Stripe.js).
pub fn apply(headers: &mut HeaderMap, stripe_mode: bool) {
    let policy = if stripe_mode {
        STRIPE_POLICY
    } else {
        SANDBOX_POLICY
    };
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    let is_page = headers
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if is_page || !headers.contains_key(CACHE_CONTROL) {
        // Pages show a customer's data: never keep them (the back button after signing out
        // asks the server again, which sends to the sign-in page).
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
