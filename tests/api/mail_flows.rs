//! The messages of issue 17 against a real SMTP server (`aiosmtpd`): a declined renewal sends
//! the failed-payment notice with a link to pay with another card; a trial ending within three
//! days is announced once, naming the plan in the customer's language; every sent message is
//! recorded once on the log, even when a crash made it go out twice; with
//! `MAIL_CUSTOMER_EMAILS=stripe` billstream leaves invoices and receipts to Stripe;
//! `/sandbox/mail` lists and shows the messages.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::mail::{assert_no_more, borrowed, message_ids, pay, smtp_vars};
use crate::support::smtp::{ReceivedMail, SmtpSink};

const DAY: i64 = 86_400;

async fn mailing_app(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let vars = smtp_vars(sink);
    let mut all = borrowed(&vars);
    all.push(("MAIL_TRIAL_REMINDER_POLL_MS", "200"));
    all.push(("PUBLIC_URL", "https://billing.example.com"));
    all.extend_from_slice(extra);
    spawn_app_with(&all).await
}

async fn post(app: &TestApp, path: &str, body: Value, token: Option<&str>) -> Value {
    let response = app.post_json(path, &body, token).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn advance(app: &TestApp, seconds: i64) {
    post(
        app,
        "/sandbox/clock/advance",
        json!({ "seconds": seconds }),
        None,
    )
    .await;
}

/// The outbox's kinds, oldest first.
async fn kinds(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM mail_outbox ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// Waits until a message with `subject_start` arrives; returns it.
async fn wait_for_subject(sink: &SmtpSink, subject_start: &str) -> ReceivedMail {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = sink.messages().into_iter().find(|mail| {
            mail.subject
                .as_deref()
                .is_some_and(|subject| subject.starts_with(subject_start))
        });
        if let Some(mail) = found {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "no message {subject_start:?} in {:?}",
            sink.messages()
                .iter()
                .map(|m| m.subject.clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_declined_renewal_sends_the_failed_payment_notice_with_a_link_to_pay() {
    let sink = SmtpSink::start().await;
    let app = mailing_app(&sink, &[]).await;
    let token = app.token_for("renewal@example.com").await;
    post(
        &app,
        "/api/subscriptions",
        json!({"plan": "particulier", "payment_method": "pm_card_visa", "trial_days": 0}),
        Some(&token),
    )
    .await;
    wait_for_subject(&sink, "Your invoice").await;

    let response = app
        .post_json(
            "/api/billing/payment-method",
            &json!({"payment_method": "pm_card_chargeCustomerFail"}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    advance(&app, 32 * DAY).await;

    let notice = wait_for_subject(&sink, "Your payment of €9.90 did not go through").await;
    assert_eq!(notice.to, ["renewal@example.com"]);
    let text = notice.text();
    assert!(text.contains("Reason: Your card was declined."), "{text}");
    assert!(
        text.contains("Pay with another card: https://billing.example.com/invoices/"),
        "{text}"
    );
    assert!(text.contains("#pay"), "{text}");
    assert!(
        text.contains("billstream demo SAS"),
        "the seller signs: {text}"
    );
}

#[tokio::test]
async fn a_trial_ending_soon_is_announced_once_with_the_plan_named_in_the_customer_s_language() {
    let sink = SmtpSink::start().await;
    // The catalog names the plan in French and gives it an English name too.
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans.toml");
    std::fs::write(
        &plans,
        "[[plans]]\nid = \"particulier\"\nname = \"Particulier\"\namount = 990\n\
         currency = \"eur\"\ninterval = \"month\"\ntrial_days = 14\n\
         features = [\"Paiements en ligne\"]\n\
         [plans.translations.en]\nname = \"Personal\"\n",
    )
    .unwrap();
    let app = mailing_app(&sink, &[("PLANS_FILE", plans.to_str().unwrap())]).await;
    // One customer reads the service's default language (English), the other French.
    let token = app.token_for("trial@example.com").await;
    let french = app.token_for("essai@example.com").await;
    let preferences = app
        .patch_json("/api/auth/profile", &json!({"language": "fr"}), &french)
        .await;
    assert_eq!(preferences.status(), StatusCode::OK);
    for token in [&token, &french] {
        let created = post(
            &app,
            "/api/subscriptions",
            json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
            Some(token),
        )
        .await;
        assert_eq!(created["status"], "trialing");
    }
    // Four days before the end: nothing yet, even after several looks.
    advance(&app, 10 * DAY).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(!kinds(&app).await.contains(&"trial_ending".to_owned()));

    advance(&app, DAY + 3_600).await;
    let reminder = wait_for_subject(&sink, "Your trial ends on").await;
    assert_eq!(reminder.to, ["trial@example.com"]);
    let text = reminder.text();
    assert!(text.contains("Your Personal trial ends soon."), "{text}");
    assert!(text.contains("€9.90"), "{text}");
    assert!(
        text.contains("Manage your subscription: https://billing.example.com/dashboard"),
        "{text}"
    );
    let rappel = wait_for_subject(&sink, "Votre période d'essai se termine le").await;
    assert_eq!(rappel.to, ["essai@example.com"]);
    let texte = rappel.text();
    assert!(
        texte.contains("Votre essai Particulier se termine bientôt."),
        "{texte}"
    );
    // Many more looks, and a day later: still one reminder each.
    advance(&app, DAY).await;
    let messages = assert_no_more(&sink, 2).await;
    assert_eq!(messages.len(), 2);
    let reminders = kinds(&app).await;
    assert_eq!(reminders, ["trial_ending", "trial_ending"]);
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE aggregate_type = 'Subscription'
            AND event_type = 'TrialEndingSoon'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, 2);
}

/// Creates and finalizes a €50 invoice: its message is queued.
async fn issue_invoice(app: &TestApp, token: &str) {
    let invoice = post(
        app,
        "/api/invoices/create",
        json!({"currency": "eur", "items": [{"description": "Audit <b>", "quantity": 1,
               "unit_amount": 5_000, "tax_rate_bps": 0}], "due_days": 15}),
        Some(token),
    )
    .await;
    let id = invoice["invoice_id"].as_str().unwrap();
    post(
        app,
        &format!("/api/invoices/{id}/finalize"),
        json!({}),
        Some(token),
    )
    .await;
}

/// `(message_id, count)` of the `EmailSent` events.
async fn sent_events(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT aggregate_id, COUNT(*) FROM events
          WHERE aggregate_type = 'MailMessage' AND event_type = 'EmailSent'
          GROUP BY aggregate_id ORDER BY aggregate_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn until_events(app: &TestApp, count: usize) -> Vec<(String, i64)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = sent_events(app).await;
        if events.len() >= count {
            return events;
        }
        assert!(Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_sent_event_is_recorded_once_per_message_even_when_a_crash_sends_it_twice() {
    let sink = SmtpSink::start().await;
    let app = mailing_app(&sink, &[]).await;
    let token = app.token_for("sent@example.com").await;
    pay(&app, &token, 1_000).await;
    pay(&app, &token, 2_000).await;
    sink.wait_for(2, Duration::from_secs(20)).await;
    let events = until_events(&app, 2).await;
    let ids = message_ids(&sink.messages());
    assert_eq!(
        events,
        ids.iter().map(|id| (id.clone(), 1)).collect::<Vec<_>>()
    );

    // A crash after the SMTP server accepted the first message but before the row was marked:
    // the row is pending again, the message goes out a second time, its record stays single.
    sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', next_attempt_at = '2000-01-01T00:00:00.000Z'
          WHERE message_id = ?",
    )
    .bind(&ids[0])
    .execute(&app.pool)
    .await
    .unwrap();
    sink.wait_for(3, Duration::from_secs(20)).await;
    let messages = assert_no_more(&sink, 3).await;
    assert_eq!(
        message_ids(&messages)
            .iter()
            .filter(|id| **id == ids[0])
            .count(),
        2
    );
    let events = sent_events(&app).await;
    assert_eq!(
        events,
        ids.iter().map(|id| (id.clone(), 1)).collect::<Vec<_>>()
    );
    let customer: String = sqlx::query_scalar(
        "SELECT json_extract(payload, '$.EmailSent.customer_id') FROM events
          WHERE aggregate_type = 'MailMessage' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let profile: String = sqlx::query_scalar("SELECT id FROM customer_profiles WHERE email = ?")
        .bind("sent@example.com")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(customer, profile, "the event names the customer");
}

#[tokio::test]
async fn when_stripe_sends_invoices_and_receipts_billstream_sends_only_its_own_notices() {
    let sink = SmtpSink::start().await;
    let app = mailing_app(&sink, &[("MAIL_CUSTOMER_EMAILS", "stripe")]).await;
    let token = app.token_for("stripe-mails@example.com").await;
    pay(&app, &token, 1_000).await;
    issue_invoice(&app, &token).await;
    let intent = app.create_intent(&token, 3_000, "eur").await;
    let (_, declined) = app
        .confirm(
            &token,
            intent["payment_intent_id"].as_str().unwrap(),
            "pm_card_chargeDeclined",
        )
        .await;
    assert_ne!(declined["status"], "succeeded", "{declined}");

    let notice = wait_for_subject(&sink, "Your payment of €30.00 did not go through").await;
    assert_eq!(notice.to, ["stripe-mails@example.com"]);
    assert_no_more(&sink, 1).await;
    assert_eq!(kinds(&app).await, ["payment_failed"]);
}

/// `GET path` with `Accept: accept`.
async fn fetch(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(ACCEPT, accept)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sandbox_mail_page_lists_and_shows_a_message_without_running_its_html() {
    let app = spawn_app_with(&[("MAIL_LANGUAGE", "en")]).await;
    let token = app.token_for("page@example.com").await;
    issue_invoice(&app, &token).await;

    // The JSON form, until the message is sent to the local mailbox.
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let response = app
            .client
            .get(app.url("/sandbox/mail"))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        if body["data"][0]["status"] == "sent" {
            break body["data"][0].clone();
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(listed["to"], "page@example.com");
    assert_eq!(listed["kind"], "invoice_issued");
    let message_id = listed["message_id"].as_str().unwrap();
    let subject = listed["subject"].as_str().unwrap();

    // The HTML list, in the portal's frame and under its policy.
    let response = fetch(&app, "/sandbox/mail", "text/html").await;
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    let page = response.text().await.unwrap();
    assert!(page.contains("Sandbox mail"), "{page}");
    assert!(page.contains(subject));
    assert!(page.contains(&format!("/sandbox/mail/{message_id}")));

    // One message: headers, both parts, the HTML only as escaped source.
    let response = fetch(&app, &format!("/sandbox/mail/{message_id}"), "*/*").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!("&lt;{message_id}&gt;")), "{page}");
    assert!(page.contains("Here is your invoice, attached as a PDF."));
    assert!(
        page.contains("&#60;table") || page.contains("&lt;table"),
        "the HTML part as source: {page}"
    );
    assert!(!page.contains("<table style"), "never as markup: {page}");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "the portal's module only"
    );

    // The attachment downloads.
    let response = fetch(
        &app,
        &format!("/sandbox/mail/{message_id}/invoice.pdf"),
        "*/*",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/pdf");
    assert!(response.bytes().await.unwrap().starts_with(b"%PDF"));

    // An unknown message is a 404, as data or as a page.
    let response = fetch(&app, "/sandbox/mail/nope@nowhere", "application/json").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}
