//! The portal in Stripe mode (against localstripe): card pages load Stripe.js from
//! `https://js.stripe.com/v3` with the configured publishable key and the intent's client
//! secret, the policy allows that origin, and billstream's own card fields are gone; pages
//! without a card form load no Stripe script.

use reqwest::header::CONTENT_SECURITY_POLICY;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{browser_like, sign_up};
use crate::helpers::spawn_app_with;
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

const STRIPE_JS: &str = r#"<script src="https://js.stripe.com/v3"></script>"#;

#[tokio::test]
async fn in_stripe_mode_card_pages_use_stripe_elements_and_never_billstreams_card_fields() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_portal"),
    ])
    .await;
    let token = sign_up(&app, "elements@example.com").await;
    let response = app
        .post_json(
            "/api/payments/create-intent",
            &json!({"amount": 1500, "currency": "eur"}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let intent: Value = response.json().await.expect("json");
    let client_secret = intent["client_secret"].as_str().expect("a client secret");
    let payment = intent["payment_id"].as_str().expect("a payment id");

    let checkout = browser_like()
        .get(app.url(&format!("/pay/{payment}")))
        .header("cookie", format!("bs_session={token}"))
        .send()
        .await
        .expect("the page answers");
    assert_eq!(checkout.status(), StatusCode::OK);
    let policy = checkout.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        policy.contains("script-src 'self' https://js.stripe.com;"),
        "{policy}"
    );
    let body = checkout.text().await.expect("a body");
    assert!(body.contains(STRIPE_JS), "{body}");
    assert!(body.contains(r#"data-mode="stripe""#), "{body}");
    assert!(body.contains(r#"data-publishable-key="pk_test_portal""#));
    assert!(
        body.contains(client_secret),
        "Elements confirms with the intent's secret"
    );
    assert!(
        !body.contains(r#"id="card-number""#),
        "no card field of billstream's own"
    );

    let home = browser_like()
        .get(app.url("/"))
        .send()
        .await
        .expect("the page answers")
        .text()
        .await
        .expect("a body");
    assert!(
        !home.contains("js.stripe.com"),
        "no card form, no Stripe.js"
    );
}
