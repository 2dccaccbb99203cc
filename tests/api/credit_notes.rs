//! Credit notes (*avoirs*) end to end in the sandbox: a partial note reduces what is due and
//! is its own legal document (Factur-X type 381 the validator accepts, UBL `CreditNote`, the
//! invoice it corrects named, totals to the cent, number `AV-year-000001`); a full note
//! cancels an unpaid invoice, which can no longer be voided; nothing is credited twice.

use chrono::Datelike;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, billstream, spawn_app, TestApp};
use crate::invoice_documents::{customer, finalized_invoice, normalized};
use crate::support::pdf_tools::{facturx_check, pdftotext};

/// Issues a credit note; returns the status and the answer.
pub(crate) async fn credit(
    app: &TestApp,
    token: &str,
    invoice_id: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = app
        .post_json(
            &format!("/api/invoices/{invoice_id}/credit-notes"),
            &body,
            Some(token),
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// A credit note's document (`pdf`, `facturx.xml`, `ubl.xml`), by number or id.
async fn note_file(app: &TestApp, token: &str, note: &str, what: &str) -> Vec<u8> {
    let response = app
        .get(&format!("/api/credit-notes/{note}/{what}"), Some(token))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{what}");
    response.bytes().await.unwrap().to_vec()
}

/// A customer `email` with a finalized invoice (line 0: 3 × 5,00 € at 20 %) credited with
/// `body`: the token, the invoice and the note.
pub(crate) async fn credited_invoice(
    app: &TestApp,
    email: &str,
    body: Value,
) -> (String, Value, Value) {
    let token = customer(app, email, "Claire Dubois").await;
    let invoice = finalized_invoice(app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let (status, note) = credit(app, &token, id, body).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    (token, invoice, note)
}

fn this_years_first_note() -> String {
    format!("AV-{}-000001", chrono::Utc::now().year())
}

#[tokio::test]
async fn a_partial_credit_note_reduces_what_is_due_and_is_a_valid_factur_x_credit_note() {
    let app = spawn_app().await;
    let body = json!({"reason": "Un café offert", "lines": [{"line": 0, "quantity": 1}]});
    let (token, invoice, note) = credited_invoice(&app, "avoir@example.com", body).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    assert_eq!(note["number"], this_years_first_note().as_str());
    assert_eq!(note["invoice_id"], id);
    assert_eq!(
        (&note["subtotal"], &note["tax"], &note["total"]),
        (&json!(500), &json!(100), &json!(600))
    );
    assert_eq!(note["outcome"], "reduces_amount_due");
    assert_eq!(note["lines"][0]["quantity"], 1);
    assert!(note["document_sha256"].is_string(), "{note}");

    let after = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["amount_credited"], 600);
    assert_eq!(
        after["amount_due"].as_i64().unwrap(),
        invoice["total"].as_i64().unwrap() - 600
    );
    let listed = app
        .get_json(&format!("/api/invoices/{id}/credit-notes"), Some(&token))
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["number"], note["number"]);
    // The customer's statistics: still invoiced in full, outstanding less the note.
    let stats = app.get_json("/api/invoices/stats", Some(&token)).await;
    assert_eq!(stats["data"][0]["total_invoiced"], invoice["total"]);
    assert_eq!(stats["data"][0]["total_outstanding"], after["amount_due"]);

    let number = note["number"].as_str().unwrap();
    let pdf = note_file(&app, &token, number, "pdf").await;
    // The note's own link leads to the same document.
    let linked = app
        .get(note["pdf_url"].as_str().unwrap(), Some(&token))
        .await;
    assert_eq!(linked.status(), StatusCode::OK, "{}", note["pdf_url"]);
    assert_eq!(linked.bytes().await.unwrap().to_vec(), pdf);
    let report = facturx_check(&pdf);
    assert!(report.is_valid(), "{report:?}");
    let cii = report.xml.unwrap();
    assert!(cii.contains("<ram:TypeCode>381</ram:TypeCode>"), "{cii}");
    assert!(
        cii.contains("<ram:GrandTotalAmount>6.00</ram:GrandTotalAmount>"),
        "{cii}"
    );
    let text = normalized(&pdftotext(&pdf));
    for expected in [
        format!("Avoir n° {number}"),
        invoice["number"].as_str().unwrap().to_owned(),
        "Un café offert".to_owned(),
        "6,00 €".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    // The XML downloads are the same note, by number or by id.
    let note_id = note["credit_note_id"].as_str().unwrap();
    let alone = note_file(&app, &token, note_id, "facturx.xml").await;
    assert_eq!(String::from_utf8(alone).unwrap(), cii);
    let ubl = note_file(&app, &token, number, "ubl.xml").await;
    let ubl = String::from_utf8(ubl).unwrap();
    assert!(ubl.contains("<CreditNote"), "{ubl}");
    assert!(ubl.contains("6.00</cbc:PayableAmount>"), "{ubl}");
    // Issued once: the same bytes again, also after a replay rebuilt the read models (the
    // notes' rows with them) from the log.
    let again = note_file(&app, &token, number, "pdf").await;
    assert_eq!(again, pdf);
    let output = billstream(&app.db_path, &["replay"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replayed = app
        .get_json(&format!("/api/invoices/{id}/credit-notes"), Some(&token))
        .await;
    assert_eq!(replayed, listed);
    assert!(note_file(&app, &token, number, "pdf").await == pdf);
    let after_replay = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(after_replay["amount_credited"], 600);
}

#[tokio::test]
async fn a_full_credit_note_cancels_an_open_invoice_which_can_no_longer_be_voided() {
    let app = spawn_app().await;
    let token = customer(&app, "full@example.com", "Claire Dubois").await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    assert_error(
        app.post_json(
            &format!("/api/invoices/{id}/void"),
            &json!({}),
            Some(&token),
        )
        .await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
    let (status, note) = credit(&app, &token, id, json!({"reason": "Commande annulée"})).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["outcome"], "cancels_invoice");
    assert_eq!(note["total"], invoice["total"]);
    let after = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(after["status"], "void");
    assert_eq!(after["amount_due"], 0);
    // Nothing is left to credit on a cancelled invoice.
    let (status, refused) = credit(&app, &token, id, json!({"reason": "Encore"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
}

#[tokio::test]
async fn a_draft_is_voided_and_cannot_be_credited() {
    let app = spawn_app().await;
    let token = customer(&app, "draft@example.com", "Claire Dubois").await;
    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "items": [{"description": "Audit", "quantity": 1, "unit_amount": 1_000}]}),
            Some(&token),
        )
        .await;
    let draft: Value = response.json().await.unwrap();
    let id = draft["invoice_id"].as_str().unwrap();
    let (status, refused) = credit(&app, &token, id, json!({"reason": "Erreur"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let response = app
        .post_json(
            &format!("/api/invoices/{id}/void"),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let voided: Value = response.json().await.unwrap();
    assert_eq!(voided["status"], "void");
    assert!(voided["number"].is_null(), "a voided draft takes no number");
}

#[tokio::test]
async fn what_a_credit_note_asks_for_is_checked_against_the_invoice() {
    let app = spawn_app().await;
    let token = customer(&app, "checks@example.com", "Claire Dubois").await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    for (body, field) in [
        (json!({"reason": " "}), "reason"),
        (json!({"reason": "x", "lines": []}), "lines"),
        (
            json!({"reason": "x", "lines": [{"line": 7, "quantity": 1}]}),
            "lines",
        ),
        (
            json!({"reason": "x", "lines": [{"line": 0, "quantity": 4}]}),
            "lines",
        ),
        (
            json!({"reason": "x", "lines": [{"line": 0, "quantity": 0}]}),
            "lines[0].quantity",
        ),
    ] {
        let (status, error) = credit(&app, &token, id, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_eq!(error["error"]["field"], field, "{body} → {error}");
    }
    // Three credited one by one: the fourth has nothing left on line 0.
    for _ in 0..3 {
        let body = json!({"reason": "x", "lines": [{"line": 0, "quantity": 1}]});
        assert_eq!(credit(&app, &token, id, body).await.0, StatusCode::CREATED);
    }
    let body = json!({"reason": "x", "lines": [{"line": 0, "quantity": 1}]});
    assert_eq!(
        credit(&app, &token, id, body).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Someone else's invoice and notes are not found.
    let stranger = customer(&app, "nosy@example.com", "Nosy").await;
    let (status, _) = credit(&app, &stranger, id, json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let number = this_years_first_note();
    for path in [
        format!("/api/invoices/{id}/credit-notes"),
        format!("/api/credit-notes/{number}/pdf"),
    ] {
        assert_error(
            app.get(&path, Some(&stranger)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_same_note() {
    let app = spawn_app().await;
    let token = customer(&app, "retry@example.com", "Claire Dubois").await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let send = || async {
        let response = reqwest::Client::new()
            .post(app.url(&format!("/api/invoices/{id}/credit-notes")))
            .bearer_auth(&token)
            .header("Idempotency-Key", "avoir-1")
            .json(&json!({"reason": "x", "lines": [{"line": 0, "quantity": 1}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first["credit_note_id"], second["credit_note_id"]);
    assert_eq!(first["number"], second["number"]);
    let listed = app
        .get_json(&format!("/api/invoices/{id}/credit-notes"), Some(&token))
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_line_credited_one_unit_at_a_time_issues_every_note_with_its_legal_document() {
    let app = spawn_app().await;
    let token = customer(&app, "unit-by-unit@example.com", "Claire Dubois").await;
    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true, "due_days": 30, "items": [
                {"description": "Petit article", "quantity": 3, "unit_amount": 10, "tax_rate_bps": 500}
            ]}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let invoice: Value = response.json().await.unwrap();
    // 0,30 € at 5 % is 0,015 €: 0,02 € of VAT, which no unit's own rounding divides evenly.
    assert_eq!(invoice["tax"], 2, "{invoice}");
    let id = invoice["invoice_id"].as_str().unwrap();
    let mut credited_tax = 0;
    for _ in 0..3 {
        let body = json!({"reason": "Un article rendu", "lines": [{"line": 0, "quantity": 1}]});
        let (status, note) = credit(&app, &token, id, body).await;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        credited_tax += note["tax"].as_i64().unwrap();
        let pdf = note_file(&app, &token, note["number"].as_str().unwrap(), "pdf").await;
        let report = facturx_check(&pdf);
        assert!(report.is_valid(), "{note}: {report:?}");
    }
    assert_eq!(credited_tax, 2, "never more VAT than the invoice charged");
    let after = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(after["status"], "void", "{after}");
    assert_eq!(after["amount_due"], 0, "{after}");
}
