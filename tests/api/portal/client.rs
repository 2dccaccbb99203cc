//! How the portal's HTTP tests talk to it like a browser without being one: redirects shown,
//! not followed; cookies read from `Set-Cookie` and sent by hand; form posts that say they
//! come from the portal's own pages.

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, RequestBuilder, Response, StatusCode};

use crate::helpers::TestApp;

/// A client that shows each redirect instead of following it, and keeps no cookies.
pub fn browser_like() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

/// A form post from one of the portal's own pages (what a browser says in `Sec-Fetch-Site`).
pub fn same_site_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
    browser_like()
        .post(app.url(path))
        .header("sec-fetch-site", "same-origin")
        .form(form)
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The `Set-Cookie` line that sets `name`, if any.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value part of a `Set-Cookie` line (`name=value; …` → `value`).
pub fn cookie_value(line: &str) -> String {
    let pair = line.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// Signs a new customer up through the portal's form; returns the session token.
pub async fn sign_up(app: &TestApp, email: &str) -> String {
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

/// Signs a new customer up through the portal's form and in through the API: the session
/// token and the API token.
pub async fn sign_up_with_token(app: &TestApp, email: &str) -> (String, String) {
    let session = sign_up(app, email).await;
    let login: serde_json::Value = app
        .post_json(
            "/api/auth/login",
            &serde_json::json!({"email": email, "password": "correct horse battery"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    (session, login["token"].as_str().unwrap().to_owned())
}

pub async fn page(app: &TestApp, path: &str, session: Option<&str>) -> (StatusCode, String) {
    let mut request = browser_like().get(app.url(path));
    if let Some(token) = session {
        request = request.header("cookie", format!("bs_session={token}"));
    }
    let response = request.send().await.expect("the page is asked for");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

/// `text` as a query parameter's value.
pub fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}
