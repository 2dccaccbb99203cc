//! Cross-site request forgery: besides the session cookie's `SameSite=Lax` (a cross-site form
//! post carries no session), every form post must come from this site. The browser says so in
//! `Sec-Fetch-Site` (`same-origin`, or `none` for a user's own navigation); a browser too old
//! to send it sends `Origin`, which must name this host. A post with neither is refused too:
//! every browser the portal supports sends one of them.

use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::page::{error_page, language, Visitor};

/// Middleware: refuses a state-changing request sent from another site, with a page that says
/// so. Reads (`GET`, `HEAD`) pass: they change nothing.
pub async fn refuse_cross_site_posts(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || same_site(request.headers())
    {
        return next.run(request).await;
    }
    tracing::warn!(
        path = %request.uri().path(),
        "a cross-site form post was refused"
    );
    let lang = language(request.headers());
    let t = lang.catalog();
    let visitor = Visitor {
        lang,
        t,
        session: None,
        path: "/".to_owned(),
        flash: None,
        sandbox: true,
        stripe_key: None,
    };
    error_page(
        &visitor,
        StatusCode::FORBIDDEN,
        t.error_forbidden_title,
        t.error_cross_site,
    )
}

/// True when the request provably comes from a page of this site.
pub fn same_site(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site.trim(), "same-origin" | "none");
    }
    let Some(origin) = header(ORIGIN.as_str()) else {
        return false;
    };
    let Some(authority) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let hosts = [header(HOST.as_str()), header("x-forwarded-host")];
    hosts
        .into_iter()
        .flatten()
        .any(|host| host.trim().eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_site(&headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://shop.test"),
            ("host", "shop.test"),
        ])));
    }

    #[test]
    fn the_origin_must_name_this_host() {
        assert!(same_site(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_site(&headers(&[("host", "127.0.0.1:8080")])));
    }
}
