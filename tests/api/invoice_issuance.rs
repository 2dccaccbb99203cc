//! An invoice is issued once: its document is the same bytes at every download (a month later
//! on the sandbox clock, after the profile changed), its SHA-256 is recorded once, a replay of
//! the log never renders it again, and a draft has none yet.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{assert_error, billstream, spawn_app};
use crate::invoice_documents::{
    business_billing, customer, download, finalized_invoice, normalized, set_billing,
};
use crate::support::pdf_tools::pdftotext;

#[tokio::test]
async fn downloads_a_month_apart_and_after_a_profile_change_are_byte_identical() {
    let app = spawn_app().await;
    let token = customer(&app, "same@example.com", "Claire Dubois").await;
    set_billing(&app, &token, business_billing()).await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let first = download(&app, &token, id, "pdf").await;
    let first_xml = download(&app, &token, id, "facturx.xml").await;
    let first_ubl = download(&app, &token, id, "ubl.xml").await;

    let advanced = app
        .post_json(
            "/sandbox/clock/advance",
            &json!({"seconds": 31 * 86_400}),
            None,
        )
        .await;
    assert_eq!(advanced.status(), StatusCode::OK);
    let response = app
        .patch_json(
            "/api/auth/profile",
            &json!({"name": "Claire Martin", "billing": null}),
            &token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let later = download(&app, &token, id, "pdf").await;
    assert!(
        first == later,
        "the PDF changed after a month and a profile change"
    );
    assert_eq!(first_xml, download(&app, &token, id, "facturx.xml").await);
    assert_eq!(first_ubl, download(&app, &token, id, "ubl.xml").await);
    let text = normalized(&pdftotext(&later));
    assert!(
        text.contains("Dupont & Fils SARL") && !text.contains("Claire Martin"),
        "{text}"
    );

    // The event records the SHA-256 of exactly these bytes, once.
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM events
          WHERE aggregate_id = ? AND event_type = 'InvoiceDocumentIssued'",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(payloads.len(), 1);
    let sha256 = hex::encode(Sha256::digest(&first));
    assert!(payloads[0].contains(&sha256), "{}", payloads[0]);
    let shown = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(shown["document_sha256"], sha256.as_str());
    assert_eq!(shown["pdf_url"], format!("/api/invoices/{id}/pdf"));
}

#[tokio::test]
async fn a_replay_of_the_log_never_renders_an_issued_document_again() {
    let app = spawn_app().await;
    let token = customer(&app, "replay@example.com", "Claire Dubois").await;
    set_billing(&app, &token, business_billing()).await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let before = download(&app, &token, id, "pdf").await;
    let issued_at = |pool| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT issued_at FROM invoice_documents WHERE invoice_id = ?",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let first_issue = issued_at(&app.pool).await;

    let output = billstream(&app.db_path, &["replay"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    assert!(download(&app, &token, id, "pdf").await == before);
    assert_eq!(
        issued_at(&app.pool).await,
        first_issue,
        "the stored row was not rewritten"
    );
    let issued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE aggregate_id = ? AND event_type = 'InvoiceDocumentIssued'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(issued, 1);
    let row = projections::Invoices::find(&app.pool, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.document_sha256,
        Some(hex::encode(Sha256::digest(&before)))
    );
}

#[tokio::test]
async fn a_draft_has_no_document_yet() {
    let app = spawn_app().await;
    let token = customer(&app, "draft@example.com", "Claire Dubois").await;
    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "items": [{"description": "Conseil", "quantity": 1, "unit_amount": 10_000}]}),
            Some(&token),
        )
        .await;
    let draft: Value = response.json().await.unwrap();
    let id = draft["invoice_id"].as_str().unwrap();
    for what in ["pdf", "facturx.xml", "ubl.xml"] {
        assert_error(
            app.get(&format!("/api/invoices/{id}/{what}"), Some(&token))
                .await,
            StatusCode::CONFLICT,
            "invalid_state",
        )
        .await;
    }
}
