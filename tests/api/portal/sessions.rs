//! The portal's session and its defences over HTTP: security headers on every page, the
//! session cookie's flags, cross-site posts refused, and sign-in redirects that come back to
//! the page asked for, never to another site.

use reqwest::header::CONTENT_SECURITY_POLICY;
use reqwest::StatusCode;

use super::client::{
    browser_like, cookie_value, location, page, same_site_post, set_cookie, urlencode,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn every_page_carries_the_security_headers_and_no_inline_script() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/register", "/plans", "/no-such-page"] {
        let response = browser_like()
            .get(app.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the page answers");
        let headers = response.headers().clone();
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let policy = header(CONTENT_SECURITY_POLICY.as_str());
        assert!(policy.contains("script-src 'self';"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("js.stripe.com"), "sandbox mode: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        let body = response.text().await.expect("a body");
        for script in body.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src=\"/assets/"),
                "{path}: inline or foreign <script{tag}>"
            );
        }
    }
}

#[tokio::test]
async fn signing_up_opens_an_httponly_lax_session_that_the_api_accepts() {
    let app = spawn_app().await;
    let response = same_site_post(
        &app,
        "/register",
        &[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.com"),
            ("password", "correct horse battery"),
            ("next", "/dashboard"),
        ],
    )
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/plans");
    let line = set_cookie(&response, "bs_session").expect("a session cookie");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    let profile = app
        .get_json("/api/auth/profile", Some(&cookie_value(&line)))
        .await;
    assert_eq!(profile["email"], "ada@example.com", "{profile}");
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_a_tls_proxy() {
    let app = spawn_app().await;
    app.register("grace@example.com", "correct horse battery", "Grace")
        .await;
    let response = same_site_post(
        &app,
        "/login",
        &[
            ("email", "grace@example.com"),
            ("password", "correct horse battery"),
            ("next", "/dashboard"),
        ],
    )
    .header("x-forwarded-proto", "https")
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let line = set_cookie(&response, "bs_session").expect("a session cookie");
    assert!(line.contains("; Secure"), "{line}");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token_for("victim@example.com").await;
    let before = app.event_count().await;
    let forged = [
        ("sec-fetch-site", "cross-site", None),
        ("origin", "https://evil.example", None),
        ("sec-fetch-site", "same-site", Some("https://shop.example")),
    ];
    for (name, value, origin) in forged {
        let mut request = browser_like()
            .post(app.url("/dashboard/profile"))
            .header("cookie", format!("bs_session={token}"))
            .header(name, value)
            .form(&[("name", "Mallory"), ("phone", "")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("the post is sent");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let body = response.text().await.expect("a body");
        assert!(body.contains("sent from another site"), "{body}");
    }
    let bare = browser_like()
        .post(app.url("/dashboard/profile"))
        .header("cookie", format!("bs_session={token}"))
        .form(&[("name", "Mallory"), ("phone", "")])
        .send()
        .await
        .expect("the post is sent");
    assert_eq!(
        bare.status(),
        StatusCode::FORBIDDEN,
        "no Origin nor Sec-Fetch-Site"
    );
    assert_eq!(app.event_count().await, before, "nothing was recorded");
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["name"], "Test Customer");
}

#[tokio::test]
async fn a_post_from_the_same_origin_without_fetch_metadata_is_accepted() {
    let app = spawn_app().await;
    let token = app.token_for("origin@example.com").await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let response = browser_like()
        .post(app.url("/dashboard/profile"))
        .header("cookie", format!("bs_session={token}"))
        .header("origin", format!("http://{host}"))
        .form(&[("name", "Ada Byron"), ("phone", "")])
        .send()
        .await
        .expect("the post is sent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["name"], "Ada Byron");
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_back_to_the_page_asked_for() {
    let app = spawn_app().await;
    app.register("back@example.com", "correct horse battery", "Back")
        .await;
    for path in [
        "/dashboard",
        "/invoices",
        "/invoices/new",
        "/account",
        "/pay",
    ] {
        let response = browser_like()
            .get(app.url(path))
            .send()
            .await
            .expect("the page answers");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            location(&response).starts_with(&format!("/login?next={path}")),
            "{path}"
        );
    }
    let response = browser_like()
        .get(app.url("/invoices?status=open"))
        .send()
        .await
        .expect("the page answers");
    let login = location(&response).to_owned();
    assert_eq!(login, "/login?next=/invoices%3Fstatus%3Dopen");
    let (_, form) = page(&app, &login, None).await;
    assert!(
        form.contains(r#"name="next" value="/invoices?status=open""#),
        "{form}"
    );
    let signed_in = same_site_post(
        &app,
        "/login",
        &[
            ("email", "back@example.com"),
            ("password", "correct horse battery"),
            ("next", "/invoices?status=open"),
        ],
    )
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/invoices?status=open");
}

#[tokio::test]
async fn a_return_path_to_another_site_is_replaced_by_the_dashboard() {
    let app = spawn_app().await;
    app.register("stay@example.com", "correct horse battery", "Stay")
        .await;
    for next in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let response = same_site_post(
            &app,
            "/login",
            &[
                ("email", "stay@example.com"),
                ("password", "correct horse battery"),
                ("next", next),
            ],
        )
        .send()
        .await
        .expect("the form is sent");
        assert_eq!(location(&response), "/dashboard", "{next}");
        let switch = browser_like()
            .get(app.url(&format!("/language/fr?next={}", urlencode(next))))
            .send()
            .await
            .expect("the switch answers");
        assert_eq!(location(&switch), "/dashboard", "{next}");
    }
}
