//! The headers every response carries, and cross-origin access, in one place. Here: the
//! API-wide ones on every response, whatever produced it (`X-Content-Type-Options: nosniff`,
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, and a CSP that lets a JSON answer
//! load and frame nothing) and CORS for the origins of `CORS_ALLOWED_ORIGINS` only. The
//! `/docs` page gets a CSP of its own (its scripts and styles come from this server only); a
//! header a handler set is never overwritten.

use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Middleware: adds the API-wide headers, and drops CORS headers from answers to origins that
/// are not allowed (so a preflight from elsewhere learns nothing, not even the methods).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let docs_page = request.uri().path().starts_with(super::openapi::DOCS_PATH);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(if docs_page {
            DOCS_POLICY
        } else {
            API_POLICY
        }));
    if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        let cors: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            headers.remove(name);
        }
    }
    response
}

/// An API answer is data: it runs, loads and frames nothing.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Swagger UI runs its own scripts and styles (served from this binary), shows inline SVG
/// images, and fetches the document from this origin.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/// CORS for `origins` (exact origins such as `https://app.example.com`; `*` for any). Never
/// with credentials: the API authenticates with bearer tokens, which a browser does not send
/// on its own, so no origin ever needs cookies.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(false)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            CONTENT_TYPE,
            AUTHORIZATION,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            axum::http::header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}
