//! Every page of the portal at 360 px wide, in a real browser: nothing wider than the screen
//! (no horizontal scroll), and every field the visitor can type into has a label.
//!
//! The customer and what the pages show (a subscription, a payment waiting for 3-D Secure, an
//! open invoice) are made through the JSON API first, so each page is drawn with content.

use fantoccini::Client;
use serde_json::{json, Value};

use super::browse::{click, element, fill, wait_path};
use super::server::portal_url;
use crate::support::browser::with_browser;

/// The phone width the portal must fit.
const PHONE_WIDTH: u32 = 360;

/// A JSON API call on the shared server, with the customer's token; the answer's body.
async fn api(base: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON body");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The text of `field` in `body`.
fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
        .to_owned()
}

/// A customer with a subscription, a payment waiting for 3-D Secure and an open invoice: its
/// e-mail address and the pages to visit as that customer.
async fn customer_pages(base: &str) -> (String, Vec<String>) {
    let email = format!("narrow-{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = api(
        base,
        "/api/auth/register",
        None,
        json!({"email": email, "password": "correct horse battery", "name": "Ada Lovelace"}),
    )
    .await;
    let token = text(&registered, "token");
    let subscription = api(
        base,
        "/api/subscriptions",
        Some(&token),
        json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
    )
    .await;
    let intent = api(
        base,
        "/api/payments/create-intent",
        Some(&token),
        json!({"amount": 4200, "currency": "eur"}),
    )
    .await;
    let waiting = api(
        base,
        "/api/payments/confirm",
        Some(&token),
        json!({"payment_intent_id": text(&intent, "payment_intent_id"),
               "payment_method": "pm_card_authenticationRequired"}),
    )
    .await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    let fresh = api(
        base,
        "/api/payments/create-intent",
        Some(&token),
        json!({"amount": 990, "currency": "eur"}),
    )
    .await;
    let invoice = api(
        base,
        "/api/invoices/create",
        Some(&token),
        json!({"currency": "eur", "finalize": true, "memo": "Merci pour votre confiance !",
               "items": [
                   {"description": "Audit de sécurité de l'infrastructure complète",
                    "quantity": 2, "unit_amount": 50000, "tax_rate_bps": 2000},
                   {"description": "Déplacement", "quantity": 1, "unit_amount": 333,
                    "tax_rate_bps": 550}]}),
    )
    .await;
    let invoice_id = text(&invoice, "invoice_id");
    let pages = vec![
        "/dashboard".to_owned(),
        format!(
            "/dashboard/subscriptions/{}/change?plan=professionnel",
            text(&subscription, "subscription_id")
        ),
        "/plans".to_owned(),
        "/plans/professionnel/subscribe".to_owned(),
        "/pay".to_owned(),
        format!("/pay/{}", text(&fresh, "payment_id")),
        format!("/pay/{}", text(&intent, "payment_id")),
        format!("/pay/{}/challenge", text(&intent, "payment_id")),
        "/invoices".to_owned(),
        "/invoices?status=paid".to_owned(),
        "/invoices/new".to_owned(),
        format!("/invoices/{invoice_id}"),
        "/account".to_owned(),
        "/logout".to_owned(),
    ];
    (email, pages)
}

/// How much wider than the window the page is (0 when it fits), and the fields without a label.
async fn measure(client: &Client) -> anyhow::Result<(i64, Vec<String>)> {
    let script = r#"
        const root = document.documentElement;
        const fields = [...document.querySelectorAll("input, select, textarea")]
            .filter((field) => field.type !== "hidden" && !field.hidden)
            .filter((field) => !(field.labels && field.labels.length) && !field.ariaLabel)
            .map((field) => field.id || field.name);
        return [root.scrollWidth - window.innerWidth, fields];
    "#;
    let answer = client.execute(script, vec![]).await?;
    let overflow = answer[0].as_i64().unwrap_or(i64::MAX);
    let unlabeled = answer[1]
        .as_array()
        .map(|fields| fields.iter().map(|f| f.to_string()).collect())
        .unwrap_or_default();
    Ok((overflow, unlabeled))
}

/// `text` as a query parameter's value.
fn encode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

/// Visits each page and collects what does not fit; both languages (French words are longer).
async fn check(client: &Client, base: &str, pages: &[String]) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for lang in ["fr", "en"] {
        for page in pages {
            client
                .goto(&format!("{base}/language/{lang}?next={}", encode(page)))
                .await?;
            element(client, "main h1").await?;
            let (overflow, unlabeled) = measure(client).await?;
            if overflow > 0 {
                problems.push(format!(
                    "{lang} {page}: {overflow} px wider than the screen"
                ));
            }
            if !unlabeled.is_empty() {
                problems.push(format!(
                    "{lang} {page}: fields without a label {unlabeled:?}"
                ));
            }
        }
    }
    Ok(problems)
}

#[tokio::test]
async fn every_public_page_fits_a_360_px_screen_without_horizontal_scroll() {
    let base = portal_url().await.to_owned();
    let pages: Vec<String> = ["/", "/register", "/login", "/plans", "/no-such-page"]
        .map(str::to_owned)
        .to_vec();
    with_browser(
        "portal_public_pages_at_360px",
        PHONE_WIDTH,
        740,
        |c| async move {
            let problems = check(&c, &base, &pages).await?;
            assert!(problems.is_empty(), "{problems:#?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn every_signed_in_page_fits_a_360_px_screen_without_horizontal_scroll() {
    let base = portal_url().await.to_owned();
    let (email, pages) = customer_pages(&base).await;
    with_browser(
        "portal_signed_in_pages_at_360px",
        PHONE_WIDTH,
        740,
        |c| async move {
            c.goto(&format!("{base}/login")).await?;
            fill(&c, "#email", &email).await?;
            fill(&c, "#password", "correct horse battery").await?;
            click(&c, "main form button[type=submit]").await?;
            wait_path(&c, "/dashboard").await?;
            let problems = check(&c, &base, &pages).await?;
            assert!(problems.is_empty(), "{problems:#?}");
            // The signed link, opened by someone who is not signed in.
            c.goto(&format!("{base}{}", pages[11])).await?;
            let link = element(&c, "[data-share-link]")
                .await?
                .attr("href")
                .await?
                .unwrap_or_default();
            c.delete_cookie("bs_session").await?;
            let problems = check(&c, &base, &[link]).await?;
            assert!(problems.is_empty(), "{problems:#?}");
            Ok(())
        },
    )
    .await;
}
