//! The portal over HTTP, as a browser would send it but without one: security headers, the
//! session cookie's flags, cross-site posts refused, sign-in redirects that come back, forms
//! shown again with the message next to the field, languages, and signed invoice links.

use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// A client that shows each redirect instead of following it, and keeps no cookies.
fn browser_like() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

/// A form post from one of the portal's own pages (what a browser says in `Sec-Fetch-Site`).
fn same_site_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
    browser_like()
        .post(app.url(path))
        .header("sec-fetch-site", "same-origin")
        .form(form)
}

fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The `Set-Cookie` line that sets `name`, if any.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value part of a `Set-Cookie` line (`name=value; …` → `value`).
fn cookie_value(line: &str) -> String {
    let pair = line.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// Signs a new customer up through the portal's form; returns the session token.
async fn sign_up(app: &TestApp, email: &str) -> String {
    let response = same_site_post(
        app,
        "/register",
        &[
            ("name", "Ada Lovelace"),
            ("email", email),
            ("password", "correct horse battery"),
            ("next", "/dashboard"),
        ],
    )
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let line = set_cookie(&response, "bs_session").expect("a session cookie");
    cookie_value(&line)
}

async fn page(app: &TestApp, path: &str, session: Option<&str>) -> (StatusCode, String) {
    let mut request = browser_like().get(app.url(path));
    if let Some(token) = session {
        request = request.header("cookie", format!("bs_session={token}"));
    }
    let response = request.send().await.expect("the page is asked for");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

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

fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

#[tokio::test]
async fn a_mistyped_sign_up_is_shown_again_with_the_message_next_to_the_field() {
    let app = spawn_app().await;
    let before = app.event_count().await;
    let response = same_site_post(
        &app,
        "/register",
        &[
            ("name", "Ada Lovelace"),
            ("email", "not-an-address"),
            ("password", "correct horse battery"),
            ("next", "/dashboard"),
        ],
    )
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&response, "bs_session").is_none());
    let body = response.text().await.expect("a body");
    assert!(body.contains(r#"id="email" name="email" type="email" value="not-an-address""#));
    assert!(body.contains(r#"aria-describedby="email-error""#), "{body}");
    assert!(body.contains(r#"<p class="error" id="email-error">Enter an e-mail address"#));
    assert!(body.contains(r#"value="Ada Lovelace""#), "the name is kept");
    assert_eq!(app.event_count().await, before, "no customer was created");
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_next_to_its_field() {
    let app = spawn_app().await;
    let token = sign_up(&app, "pw@example.com").await;
    let change = |current: &'static str| {
        same_site_post(
            &app,
            "/account/password",
            &[
                ("current_password", current),
                ("new_password", "another long one"),
            ],
        )
        .header("cookie", format!("bs_session={token}"))
    };
    let refused = change("not my password").send().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.expect("a body");
    assert!(body.contains(r#"id="current_password-error">This is not your current password."#));
    let old = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "pw@example.com", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(old.status(), StatusCode::OK, "the password is unchanged");

    let changed = change("correct horse battery").send().await.expect("sent");
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let new = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "pw@example.com", "password": "another long one"}),
            None,
        )
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bad_invoice_line_is_shown_again_and_no_invoice_is_created() {
    let app = spawn_app().await;
    let token = sign_up(&app, "lines@example.com").await;
    let response = same_site_post(
        &app,
        "/invoices/new",
        &[
            ("currency", "eur"),
            ("description", "Audit"),
            ("quantity", "two"),
            ("unit_amount", "500"),
            ("tax_rate", "20"),
            ("due_days", "30"),
            ("finalize", "on"),
            ("form_key", "3f0c3c1e-4a7e-4e55-9d0e-5b2f2c1a0b01"),
        ],
    )
    .header("cookie", format!("bs_session={token}"))
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.expect("a body");
    assert!(body.contains("Enter a whole quantity"), "{body}");
    assert!(body.contains(r#"value="two""#), "the typed value is kept");
    let list: Value = app.get_json("/api/invoices/list", Some(&token)).await;
    assert_eq!(list["data"], json!([]), "{list}");
}

#[tokio::test]
async fn the_language_follows_the_browser_until_the_switch_is_used() {
    let app = spawn_app().await;
    let asked = |language: &'static str, cookie: Option<String>| {
        let mut request = browser_like()
            .get(app.url("/"))
            .header("accept-language", language);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move {
            request
                .send()
                .await
                .expect("sent")
                .text()
                .await
                .expect("body")
        }
    };
    assert!(asked("fr-FR,fr;q=0.9,en;q=0.5", None)
        .await
        .contains(r#"<html lang="fr">"#));
    assert!(asked("de-DE,en;q=0.8", None)
        .await
        .contains(r#"<html lang="en">"#));

    let switch = browser_like()
        .get(app.url("/language/en?next=%2Fplans"))
        .send()
        .await
        .expect("the switch answers");
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switch), "/plans");
    let line = set_cookie(&switch, "bs_lang").expect("the choice is remembered");
    assert!(line.contains("Max-Age=31536000"), "{line}");
    let cookie = line.split(';').next().unwrap_or_default().to_owned();
    let english = asked("fr-FR,fr;q=0.9", Some(cookie)).await;
    assert!(english.contains(r#"<html lang="en">"#), "the switch wins");
}

#[tokio::test]
async fn a_signed_invoice_link_opens_signed_out_and_an_altered_one_does_not() {
    let app = spawn_app().await;
    let token = sign_up(&app, "link@example.com").await;
    let created = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                "items": [{"description": "Audit", "quantity": 2, "unit_amount": 50000,
                           "tax_rate_bps": 2000}]}),
            Some(&token),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let invoice: Value = created.json().await.expect("json");
    let id = invoice["invoice_id"].as_str().expect("an id");
    let (status, own) = page(&app, &format!("/invoices/{id}"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let link = own
        .split("<p class=\"share\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page shows its signed link")
        .replace("&#38;", "&");
    assert!(link.starts_with(&format!("/i/{id}?expires=")), "{link}");

    let (status, public) = page(&app, &link, None).await;
    assert_eq!(status, StatusCode::OK, "{link}: {public}");
    assert!(public.contains("1,200.00"), "the total is shown");
    let pdf = browser_like()
        .get(app.url(&link.replacen('?', "/pdf?", 1)))
        .send()
        .await
        .expect("the PDF answers");
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF-"));

    let altered = link.replace("expires=", "expires=1");
    let (status, _) = page(&app, &altered, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a changed expiry");
    let other = link.replace(id, "00000000-0000-0000-0000-000000000000");
    let (status, _) = page(&app, &other, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another invoice's id");
}
