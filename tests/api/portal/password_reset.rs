//! The forgotten password in the portal: the link on the sign-in page, the same answer for any
//! address, the new-password form from the e-mailed link (errors next to the field, then signed
//! in), a used link refused; and the e-mail preferences on the account page.

use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use reqwest::StatusCode;

use super::client::{cookie_value, location, page, same_site_post, set_cookie, sign_up};
use crate::helpers::{spawn_app, TestApp};

/// The token of the reset link in the local mailbox's newest message.
async fn token_from_mailbox(app: &TestApp) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let raw: String = loop {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT raw FROM mailbox ORDER BY delivered_at DESC LIMIT 1")
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        if let Some(raw) = raw {
            break raw;
        }
        assert!(Instant::now() < deadline, "no message in the mailbox");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
    let text = parsed.body_text(0).unwrap().into_owned();
    let start =
        text.find("/password/reset?token=").expect("a link") + "/password/reset?token=".len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_visitor_who_forgot_the_password_gets_a_link_sets_a_new_one_and_is_signed_in() {
    let app = spawn_app().await;
    sign_up(&app, "portal-reset@example.com").await;
    let (_, login) = page(&app, "/login", None).await;
    assert!(login.contains("href=\"/password/forgot\""));

    let mut answers = Vec::new();
    for email in ["portal-reset@example.com", "nobody@example.com"] {
        let response = same_site_post(&app, "/password/forgot", &[("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("If an account exists for this address"),
            "{body}"
        );
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1], "the same page for any address");

    let token = token_from_mailbox(&app).await;
    let (status, form) = page(&app, &format!("/password/reset?token={token}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(&format!("value=\"{token}\"")));

    let short = same_site_post(
        &app,
        "/password/reset",
        &[("token", &token), ("password", "short")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = short.text().await.unwrap();
    assert!(body.contains("id=\"password-error\""), "{body}");

    let done = same_site_post(
        &app,
        "/password/reset",
        &[("token", &token), ("password", "a portal passphrase")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/dashboard");
    let session = cookie_value(&set_cookie(&done, "bs_session").expect("signed in"));
    let (status, _) = page(&app, "/dashboard", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, used) = page(&app, &format!("/password/reset?token={token}"), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(used.contains("already used"), "{used}");
    let (status, _) = page(&app, "/password/reset?token=made-up", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_account_page_changes_the_email_language_and_receipts() {
    let app = spawn_app().await;
    let session = sign_up(&app, "portal-prefs@example.com").await;
    let (_, account) = page(&app, "/account", Some(&session)).await;
    assert!(account.contains("name=\"receipts\" value=\"on\" checked"));

    let saved = same_site_post(&app, "/account/mail", &[("language", "fr")])
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let profile = app.get_json("/api/auth/profile", Some(&session)).await;
    assert_eq!(
        (profile["language"].as_str(), profile["receipts"].as_bool()),
        (Some("fr"), Some(false))
    );
    let (_, account) = page(&app, "/account", Some(&session)).await;
    assert!(account.contains("<option value=\"fr\" selected>"));
    assert!(!account.contains("checked"));
}
