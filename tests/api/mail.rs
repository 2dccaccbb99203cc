//! E-mail against a real SMTP server (`aiosmtpd`, `support::smtp`): an invoice finalized and a
//! payment that succeeds each arrive once, in the configured language, the invoice with its PDF;
//! an unreachable server gets retries with backoff and the message once it is back; a restart
//! never sends a message twice, and a message queued before a stop goes out after it. Without
//! `SMTP_URL` the messages land in the local mailbox table.

use std::path::Path;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_on_with, spawn_app_with, TestApp};
use crate::support::smtp::{ReceivedMail, SmtpSink};

pub(crate) fn smtp_vars(sink: &SmtpSink) -> Vec<(String, String)> {
    vec![
        (
            "SMTP_URL".into(),
            format!("smtp://127.0.0.1:{}", sink.port()),
        ),
        ("MAIL_LANGUAGE".into(), "en".into()),
        ("MAIL_RETRY_BASE_MS".into(), "200".into()),
    ]
}

pub(crate) fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn mailing_app(sink: &SmtpSink) -> TestApp {
    spawn_app_with(&borrowed(&smtp_vars(sink))).await
}

async fn mailing_app_on(db_path: &Path, sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let vars = smtp_vars(sink);
    let mut all = borrowed(&vars);
    all.extend_from_slice(extra);
    spawn_app_on_with(db_path, &all).await
}

/// Pays `amount` cents with the sandbox's card that succeeds.
pub(crate) async fn pay(app: &TestApp, token: &str, amount: i64) {
    let intent = app.create_intent(token, amount, "eur").await;
    let intent_id = intent["payment_intent_id"].as_str().unwrap();
    let (status, body) = app.confirm(token, intent_id, "pm_card_visa").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "succeeded", "{body}");
}

/// Waits until the outbox row of the one queued message satisfies `done`.
async fn until_outbox(app: &TestApp, done: impl Fn(&str, i64) -> bool) -> (String, i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, attempts FROM mail_outbox ORDER BY position DESC")
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        if let Some((status, attempts)) = &row {
            if done(status, *attempts) {
                return (status.clone(), *attempts);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never got there: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn message_ids(messages: &[ReceivedMail]) -> Vec<String> {
    let mut ids: Vec<String> = messages
        .iter()
        .map(|mail| {
            mail.message_id
                .clone()
                .expect("every message has a Message-ID")
        })
        .collect();
    ids.sort();
    ids
}

/// Waits a little longer than the delivery loop's poll, then asserts nothing else came.
pub(crate) async fn assert_no_more(sink: &SmtpSink, count: usize) -> Vec<ReceivedMail> {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), count, "{:?}", message_ids(&messages));
    messages
}

#[tokio::test]
async fn an_invoice_and_a_receipt_arrive_once_with_the_pdf_attached() {
    let sink = SmtpSink::start().await;
    let app = mailing_app(&sink).await;
    let token = app.token_for("mail@example.com").await;

    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({
                "currency": "eur",
                "items": [{"description": "Audit", "quantity": 2, "unit_amount": 50_000,
                           "tax_rate_bps": 2_000}],
                "due_days": 15
            }),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<serde_json::Value>().await.unwrap()["invoice_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .post_json(
            &format!("/api/invoices/{id}/finalize"),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let invoice: serde_json::Value = response.json().await.unwrap();
    let number = invoice["number"].as_str().unwrap();

    let messages = sink.wait_for(1, Duration::from_secs(20)).await;
    let mail = &messages[0];
    assert_eq!(mail.to, ["mail@example.com"]);
    assert_eq!(
        mail.subject.as_deref(),
        Some(format!("Your invoice {number}").as_str())
    );
    let parsed = MessageParser::default().parse(&mail.raw).unwrap();
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains("Amount: €1,200.00"),
        "the total, formatted: {text}"
    );
    assert!(parsed.body_html(0).unwrap().contains("€1,200.00"));
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].content_type, "application/pdf");
    assert!(mail.attachments[0].content.starts_with(b"%PDF"));
    // The attachment is the invoice's one legal document, the bytes the API hands out.
    let downloaded = app
        .get(&format!("/api/invoices/{id}/pdf"), Some(&token))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(mail.attachments[0].content == downloaded.as_ref());

    pay(&app, &token, 2_000).await;
    let messages = sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        messages[1].subject.as_deref(),
        Some("Receipt for your payment of €20.00")
    );
    let messages = assert_no_more(&sink, 2).await;
    let ids = message_ids(&messages);
    assert!(ids.iter().all(|id| id.ends_with("@billstream.localhost")));
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn an_unreachable_server_gets_retries_and_the_message_when_it_is_back() {
    let mut sink = SmtpSink::start().await;
    sink.stop().await;
    let app = mailing_app(&sink).await;
    let token = app.token_for("retry@example.com").await;
    pay(&app, &token, 1_500).await;

    let (status, attempts) = until_outbox(&app, |_, attempts| attempts >= 2).await;
    assert_eq!(status, "pending");
    assert!(attempts >= 2);
    assert!(sink.messages().is_empty());

    sink.restart().await;
    sink.wait_for(1, Duration::from_secs(20)).await;
    until_outbox(&app, |status, _| status == "sent").await;
    assert_no_more(&sink, 1).await;
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_parked() {
    let mut sink = SmtpSink::start().await;
    sink.stop().await;
    let vars = [("MAIL_MAX_ATTEMPTS", "2")];
    let dir = tempfile::tempdir().unwrap();
    let app = mailing_app_on(&dir.path().join("billstream.db"), &sink, &vars).await;
    let token = app.token_for("parked@example.com").await;
    pay(&app, &token, 1_000).await;

    let (status, attempts) = until_outbox(&app, |status, _| status == "parked").await;
    assert_eq!(attempts, 2);
    let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM mail_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(error.is_some_and(|error| !error.is_empty()), "{status}");
    app.stop().await;
}

#[tokio::test]
async fn a_restart_sends_nothing_twice_and_what_was_queued_goes_out_once() {
    let mut sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("billstream.db");

    let app = mailing_app_on(&db_path, &sink, &[]).await;
    let token = app.token_for("restart@example.com").await;
    pay(&app, &token, 1_000).await;
    sink.wait_for(1, Duration::from_secs(20)).await;
    // The second message is queued while the server is down, then the service stops.
    sink.stop().await;
    pay(&app, &token, 2_000).await;
    until_outbox(&app, |_, attempts| attempts >= 1).await;
    app.stop().await;

    sink.restart().await;
    let app = mailing_app_on(&db_path, &sink, &[]).await;
    sink.wait_for(2, Duration::from_secs(20)).await;
    let messages = assert_no_more(&sink, 2).await;
    let ids = message_ids(&messages);
    assert_ne!(ids[0], ids[1]);
    app.stop().await;
}

#[tokio::test]
async fn without_an_smtp_server_messages_land_in_the_local_mailbox() {
    let app = spawn_app_with(&[]).await;
    let token = app.token_for("local@example.com").await;
    pay(&app, &token, 990).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let (recipient, subject, raw): (String, String, String) = loop {
        let row = sqlx::query_as("SELECT recipient, subject, raw FROM mailbox")
            .fetch_optional(&app.pool)
            .await
            .unwrap();
        if let Some(row) = row {
            break row;
        }
        assert!(Instant::now() < deadline, "nothing reached the mailbox");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(recipient, "local@example.com");
    // French by default.
    assert!(
        subject.starts_with("Reçu de votre paiement de 9,90"),
        "{subject}"
    );
    assert!(raw.contains("Message-ID: <"), "{raw}");
}

#[tokio::test]
async fn an_invoice_sent_again_arrives_again_and_each_email_is_on_the_customers_timeline() {
    const OPERATOR: &str = "operator-token-for-mail-tests";
    let sink = SmtpSink::start().await;
    let mut vars = smtp_vars(&sink);
    vars.push(("OPERATOR_TOKEN".into(), OPERATOR.into()));
    let app = spawn_app_with(&borrowed(&vars)).await;
    let registered: Value = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "again@example.com", "password": "correct horse", "name": "Again"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let token = registered["token"].as_str().unwrap();
    let customer_id = registered["customer"]["id"].as_str().unwrap();
    let invoice: Value = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                    "items": [{"description": "Audit", "quantity": 1, "unit_amount": 10_000}]}),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = invoice["invoice_id"].as_str().unwrap();
    sink.wait_for(1, Duration::from_secs(20)).await;

    // The explicit send: the invoice goes out once more, under a Message-ID of its own.
    let response = app
        .post_json(&format!("/api/invoices/{id}/send"), &json!({}), Some(token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    sink.wait_for(2, Duration::from_secs(20)).await;
    let messages = assert_no_more(&sink, 2).await;
    let subject = format!("Your invoice {}", invoice["number"].as_str().unwrap());
    assert!(messages.iter().all(
        |mail| mail.subject.as_deref() == Some(subject.as_str()) && mail.attachments.len() == 1
    ));
    let ids = message_ids(&messages);
    assert_ne!(ids[0], ids[1]);

    // Each message sent is an event of the customer's story, named by its Message-ID.
    let deadline = Instant::now() + Duration::from_secs(20);
    let sent: Vec<String> = loop {
        let timeline: Value = app
            .get(
                &format!("/api/admin/customers/{customer_id}/timeline"),
                Some(OPERATOR),
            )
            .await
            .json()
            .await
            .unwrap();
        let sent: Vec<String> = timeline["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["event_type"] == "EmailSent")
            .map(|entry| entry["summary"].as_str().unwrap().to_owned())
            .collect();
        if sent.len() == 2 || Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut expected: Vec<String> = ids
        .iter()
        .map(|id| format!("E-mail invoice_issued sent (Message-ID <{id}>)"))
        .collect();
    let mut sent = sent;
    sent.sort();
    expected.sort();
    assert_eq!(sent, expected);
}
