//! The portal's invoice page lists the invoice's credit notes — number, date, amount, reason
//! — in the visitor's language, each with its legal PDF, the API's bytes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{browser_like, page, sign_up_with_token};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_invoice_page_lists_its_credit_notes_with_their_pdf() {
    let app = spawn_app().await;
    let (session, token) = sign_up_with_token(&app, "portal-avoir@example.com").await;
    let created: Value = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                    "items": [{"description": "Séance de conseil", "quantity": 3, "unit_amount": 10_000, "tax_rate_bps": 2_000}]}),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["invoice_id"].as_str().unwrap();
    let (_, before) = page(&app, &format!("/invoices/{id}"), Some(&session)).await;
    assert!(!before.contains("data-credit-notes"), "{before}");

    let response = app
        .post_json(
            &format!("/api/invoices/{id}/credit-notes"),
            &json!({"reason": "Séance annulée", "lines": [{"line": 0, "quantity": 1}]}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let note: Value = response.json().await.unwrap();
    let number = note["number"].as_str().unwrap();

    let pdf_path = format!("/invoices/{id}/credit-notes/{number}/pdf");
    for (language, heading, amount, column) in [
        ("en", "Credit notes", "€120.00", "Date"),
        ("fr", "Avoirs", "120,00 €", "Motif"),
    ] {
        let response = browser_like()
            .get(app.url(&format!("/invoices/{id}")))
            .header("cookie", format!("bs_session={session}"))
            .header("accept-language", language)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        // Amounts are spaced with (narrow) no-break spaces in French.
        let body = response
            .text()
            .await
            .unwrap()
            .replace(['\u{a0}', '\u{202f}'], " ");
        // 1 × 100,00 € at 20 %.
        for expected in [heading, column, number, "Séance annulée", amount, &pdf_path] {
            assert!(
                body.contains(expected),
                "{language}: no {expected:?} in:\n{body}"
            );
        }
    }
    let api = app
        .get(&format!("/api/credit-notes/{number}/pdf"), Some(&token))
        .await
        .bytes()
        .await
        .unwrap();
    let portal = browser_like()
        .get(app.url(&pdf_path))
        .header("cookie", format!("bs_session={session}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(portal.status(), StatusCode::OK);
    assert!(
        portal.bytes().await.unwrap() == api,
        "the portal's PDF differs from the API's"
    );
}
