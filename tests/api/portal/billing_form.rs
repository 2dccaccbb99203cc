//! The billing details form of the account page: a bad SIREN is shown again as typed with the
//! message next to its field and nothing recorded; good details are saved and shown.

use reqwest::StatusCode;
use serde_json::json;

use super::client::{page, same_site_post, sign_up};
use crate::helpers::spawn_app;

const FORM: [(&str, &str); 8] = [
    ("billing_company_name", "Dupont & Fils SARL"),
    ("billing_siren", "732829321"),
    ("billing_vat_number", "FR44732829320"),
    ("billing_line1", "5 avenue des Champs-Élysées"),
    ("billing_line2", ""),
    ("billing_postal_code", "75008"),
    ("billing_city", "Paris"),
    ("billing_country", "FR"),
];

#[tokio::test]
async fn a_bad_siren_is_shown_again_next_to_its_field_and_good_details_are_saved() {
    let app = spawn_app().await;
    let session = sign_up(&app, "account-billing@example.com").await;
    let before = app.event_count().await;
    let refused = same_site_post(&app, "/account/billing", &FORM)
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.expect("a body");
    assert!(
        body.contains(r#"id="billing_siren" name="billing_siren" type="text" value="732829321""#),
        "{body}"
    );
    assert!(
        body.contains(r#"<p class="error" id="billing_siren-error">"#),
        "{body}"
    );
    assert!(body.contains(r#"Fils SARL""#), "the other fields are kept");
    assert_eq!(app.event_count().await, before, "nothing was recorded");

    let mut good = FORM;
    good[1].1 = "732 829 320";
    let saved = same_site_post(&app, "/account/billing", &good)
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, account) = page(&app, "/account", Some(&session)).await;
    assert!(account.contains(r#"value="732829320""#), "{account}");

    let login = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "account-billing@example.com", "password": "correct horse battery"}),
            None,
        )
        .await;
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["billing"]["siren"], "732829320");
    assert_eq!(profile["billing"]["address"]["city"], "Paris");
}
