//! The portal hands out the invoice's one legal document: its download is the API's bytes, and
//! a draft (which has none yet) offers no download.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{browser_like, page, sign_up_with_token};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_portal_s_download_is_the_same_document_as_the_api_s() {
    let app = spawn_app().await;
    let (session, token) = sign_up_with_token(&app, "portal-pdf@example.com").await;
    let token = token.as_str();
    let created: Value = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                    "items": [{"description": "Café crème « spécial » — 5 € l’unité", "quantity": 2, "unit_amount": 500}]}),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["invoice_id"].as_str().unwrap();
    let api = app
        .get(&format!("/api/invoices/{id}/pdf"), Some(token))
        .await
        .bytes()
        .await
        .unwrap();
    let portal = browser_like()
        .get(app.url(&format!("/invoices/{id}/pdf")))
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(portal.status(), StatusCode::OK);
    assert!(
        portal.bytes().await.unwrap() == api,
        "the portal's PDF differs from the API's"
    );

    let draft: Value = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "items": [{"description": "Conseil", "quantity": 1, "unit_amount": 900}]}),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let draft_id = draft["invoice_id"].as_str().unwrap();
    let (_, body) = page(&app, &format!("/invoices/{draft_id}"), Some(&session)).await;
    assert!(
        !body.contains(&format!("/invoices/{draft_id}/pdf")),
        "{body}"
    );
}
