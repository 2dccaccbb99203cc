//! The forgotten password and the e-mail preferences, against a real SMTP server (aiosmtpd):
//! the link arrives by e-mail, works once, ends the old password and sessions, expires; an
//! unknown address gets the same 202, as fast, and no e-mail; asking is rate-limited per
//! account; a customer who turned receipts off still gets invoices; a French customer gets
//! French.

use std::time::{Duration, Instant};

use billstream::usecases::password_reset::ANSWER_FLOOR;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};
use crate::mail::{borrowed, pay, smtp_vars};
use crate::support::smtp::{ReceivedMail, SmtpSink};

const PUBLIC_URL: &str = "https://portal.example";
const PASSWORD: &str = "correct horse battery";

async fn app_with(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let vars = smtp_vars(sink);
    let mut all = borrowed(&vars);
    all.push(("PUBLIC_URL", PUBLIC_URL));
    all.extend_from_slice(extra);
    spawn_app_with(&all).await
}

async fn ask_for_reset(app: &TestApp, email: &str) -> (StatusCode, String) {
    let response = app
        .post_json("/api/auth/password-reset", &json!({"email": email}), None)
        .await;
    (response.status(), response.text().await.unwrap())
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/password-reset/confirm",
        &json!({"token": token, "password": password}),
        None,
    )
    .await
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/auth/login",
        &json!({"email": email, "password": password}),
        None,
    )
    .await
    .status()
}

/// The token of the link in `mail`, after checking the link points at the portal.
fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.text();
    let prefix = format!("{PUBLIC_URL}/password/reset?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("a link in {text}"))
        + prefix.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_reset_works_end_to_end_and_a_second_use_of_the_link_fails() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[]).await;
    let email = "forgetful@example.com";
    let session = app.register(email, PASSWORD, "Ada Forgetful").await;
    let old_token = session["token"].as_str().unwrap();

    assert_eq!(
        ask_for_reset(&app, email).await.0,
        StatusCode::ACCEPTED,
        "asked"
    );
    let mail = sink.wait_for(1, Duration::from_secs(20)).await.remove(0);
    assert_eq!(mail.to, [email]);
    assert_eq!(mail.subject.as_deref(), Some("Choose a new password"));
    assert!(mail.text().contains("works once, for 30 minutes"));
    let token = token_in(&mail);

    // Neither the log nor the outbox holds the token: only its nonce and a placeholder.
    let mac = token.rsplit('.').next().unwrap();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM events UNION ALL SELECT text_body || html_body FROM mail_outbox",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(stored.iter().all(|row| !row.contains(mac)));

    let response = confirm(&app, &token, "a brand new passphrase").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        login_status(&app, email, "a brand new passphrase").await,
        StatusCode::OK
    );
    assert_eq!(
        login_status(&app, email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    let profile = app.get("/api/auth/profile", Some(old_token)).await;
    assert_eq!(
        profile.status(),
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );

    let again = confirm(&app, &token, "yet another passphrase").await;
    let body = assert_error(again, StatusCode::GONE, "reset_token_used").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(
        login_status(&app, email, "a brand new passphrase").await,
        StatusCode::OK,
        "the second use changed nothing"
    );

    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let response = confirm(&app, &forged, "a forged passphrase").await;
    assert_error(response, StatusCode::BAD_REQUEST, "reset_token_invalid").await;
}

#[tokio::test]
async fn an_expired_reset_link_is_refused_and_changes_nothing() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[("PASSWORD_RESET_TTL", "1")]).await;
    let email = "slow@example.com";
    app.register(email, PASSWORD, "Slow Reader").await;
    ask_for_reset(&app, email).await;
    let mail = sink.wait_for(1, Duration::from_secs(20)).await.remove(0);
    let token = token_in(&mail);
    // The link lasted one second from its request; the mail took some of it already.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let response = confirm(&app, &token, "too late a passphrase").await;
    assert_error(response, StatusCode::GONE, "reset_token_expired").await;
    assert_eq!(login_status(&app, email, PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn asking_for_a_reset_answers_alike_and_as_fast_whether_or_not_the_address_exists() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[]).await;
    let email = "known@example.com";
    app.register(email, PASSWORD, "Known Customer").await;

    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..7 {
        for (address, times) in [(email, &mut known), ("nobody@example.com", &mut unknown)] {
            let started = Instant::now();
            let answer = ask_for_reset(&app, address).await;
            times.push(started.elapsed());
            assert_eq!(answer, (StatusCode::ACCEPTED, String::new()), "{round}");
        }
    }
    // Both answers are held to the same floor, which covers the work on a known account (a
    // lookup and a command); the tolerance is far above what scheduling noise on a busy machine
    // adds to a median of 7.
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    assert!(
        known >= ANSWER_FLOOR && unknown >= ANSWER_FLOOR,
        "known {known:?}, unknown {unknown:?}"
    );
    let gap = known.abs_diff(unknown);
    assert!(
        gap < Duration::from_millis(150),
        "known {known:?}, unknown {unknown:?}"
    );

    // Seven links to the known address, none anywhere else.
    let messages = sink.wait_for(7, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let messages_now = sink.messages();
    assert_eq!(messages_now.len(), messages.len());
    assert!(messages_now.iter().all(|mail| mail.to == [email]));
}

#[tokio::test]
async fn an_unknown_address_gets_a_202_and_no_email() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[]).await;
    let (status, _) = ask_for_reset(&app, "ghost@example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(sink.messages().is_empty());
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);
}

async fn set_preferences(app: &TestApp, token: &str, preferences: Value) -> Value {
    let response = app
        .patch_json("/api/auth/profile", &preferences, token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_customer_who_turned_receipts_off_gets_the_invoice_email_but_no_receipt() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[]).await;
    let token = app.token_for("quiet@example.com").await;
    let profile = set_preferences(&app, &token, json!({"receipts": false})).await;
    assert_eq!(
        (profile["receipts"].clone(), profile["language"].clone()),
        (json!(false), Value::Null)
    );

    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "items": [{"description": "Audit", "quantity": 1,
                    "unit_amount": 10_000, "tax_rate_bps": 0}], "finalize": true}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    pay(&app, &token, 2_000).await;

    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM mail_outbox ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["invoice_issued"], "no receipt queued");
    let messages = sink.wait_for(1, Duration::from_secs(20)).await;
    assert!(messages[0]
        .subject
        .as_deref()
        .unwrap()
        .starts_with("Your invoice"));
}

#[tokio::test]
async fn a_french_customer_gets_the_french_message() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, &[]).await;
    let email = "francaise@example.com";
    let token = app.token_for(email).await;
    let profile = set_preferences(&app, &token, json!({"language": "fr"})).await;
    assert_eq!(profile["language"], "fr");
    let refused = app
        .patch_json("/api/auth/profile", &json!({"language": "de"}), &token)
        .await;
    assert_error(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;

    ask_for_reset(&app, email).await;
    let mail = sink.wait_for(1, Duration::from_secs(20)).await.remove(0);
    assert_eq!(
        mail.subject.as_deref(),
        Some("Choisissez un nouveau mot de passe")
    );
    assert!(mail.text().contains("Bonjour Test Customer,"));
}

#[tokio::test]
async fn asking_for_resets_is_rate_limited_per_account_like_the_login() {
    let sink = SmtpSink::start().await;
    let app = app_with(
        &sink,
        &[
            ("RATE_LIMITS", "on"),
            ("RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT", "2/h"),
        ],
    )
    .await;
    for _ in 0..2 {
        let (status, _) = ask_for_reset(&app, "Flood@Example.com").await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    // The same account however the address is written; another account keeps its budget.
    let response = app
        .post_json(
            "/api/auth/password-reset",
            &json!({"email": " flood@example.com"}),
            None,
        )
        .await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let (status, _) = ask_for_reset(&app, "other@example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED);
}
