//! The portal's sessions are the API's tokens, with the API's rules: signing out ends the
//! token everywhere, a password change ends the tokens issued before it (and keeps the visitor
//! who made it signed in), and the portal's sign-in form waits after repeated failures just as
//! `POST /api/auth/login` does.

use reqwest::StatusCode;

use super::client::{cookie_value, page, same_site_post, set_cookie, sign_up};
use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn signing_out_of_the_portal_ends_the_token_for_the_api_too() {
    let app = spawn_app().await;
    let session = sign_up(&app, "ada@example.com").await;
    let response = app.get("/api/auth/profile", Some(&session)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let signed_out = same_site_post(&app, "/logout", &[])
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .expect("the form is sent");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);

    let response = app.get("/api/auth/profile", Some(&session)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = page(&app, "/dashboard", Some(&session)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie opens nothing"
    );
}

#[tokio::test]
async fn a_password_changed_in_the_portal_ends_older_tokens_and_keeps_the_visitor_signed_in() {
    let app = spawn_app().await;
    let session = sign_up(&app, "ada@example.com").await;
    let changed = same_site_post(
        &app,
        "/account/password",
        &[
            ("current_password", "correct horse battery"),
            ("new_password", "a new and longer passphrase"),
        ],
    )
    .header("cookie", format!("bs_session={session}"))
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let renewed = set_cookie(&changed, "bs_session").expect("a new session cookie");
    let renewed = cookie_value(&renewed);

    let old = app.get("/api/auth/profile", Some(&session)).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the earlier token");
    let (status, body) = page(&app, "/dashboard", Some(&renewed)).await;
    assert_eq!(status, StatusCode::OK, "the visitor who changed it: {body}");
}

#[tokio::test]
async fn the_portals_sign_in_form_waits_after_repeated_failures_like_the_api() {
    let app = spawn_app_with(&[("RATE_LIMITS", "on")]).await;
    sign_up(&app, "ada@example.com").await;
    let attempt = |password: &'static str| {
        same_site_post(
            &app,
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", password),
                ("next", "/dashboard"),
            ],
        )
        .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(attempt("not the password").await.expect("sent").status());
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED, "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "repeated failures must make the account wait: {statuses:?}"
    );
    // Even the right password waits while the account is held back.
    let held = attempt("correct horse battery").await.expect("sent");
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&held, "bs_session").is_none());
    // And via the API: the same account, the same wait.
    let api = app
        .post_json(
            "/api/auth/login",
            &serde_json::json!({"email": "ada@example.com", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
}
