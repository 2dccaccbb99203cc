//! Custom invoices on the sandbox: from draft to paid and a PDF, bad ones refused naming the
//! field, and the operators' API that invoices any customer with its token.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::billing::{billing_app, customer, post, OPERATOR_TOKEN};
use crate::helpers::{assert_error, spawn_app_with};
use crate::support::pdf_tools::pdftotext;

fn custom_invoice() -> Value {
    json!({
        "currency": "eur",
        "items": [
            {"description": "Audit de sécurité", "quantity": 2, "unit_amount": 50_000, "tax_rate_bps": 2_000},
            {"description": "Frais de déplacement", "quantity": 1, "unit_amount": 333, "tax_rate_bps": 550}
        ],
        "memo": "Merci de votre confiance",
        "due_days": 15
    })
}

#[tokio::test]
async fn a_custom_invoice_goes_from_draft_to_paid_and_downloads_as_a_pdf() {
    let app = billing_app().await;
    let token = customer(&app, "invoice@example.com").await;

    let (status, draft) = post(&app, "/api/invoices/create", custom_invoice(), &token).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["number"], Value::Null);
    // 100 000 + 20 % = 20 000; 333 + round_half_up(18.315) = 18.
    assert_eq!(draft["subtotal"], 100_333);
    assert_eq!(draft["tax"], 20_018);
    assert_eq!(draft["total"], 120_351);
    assert_eq!(draft["lines"][1]["tax"], 18);
    assert!(draft["stripe_invoice_id"]
        .as_str()
        .unwrap()
        .starts_with("in_"));
    let id = draft["invoice_id"].as_str().unwrap().to_owned();

    let (status, open) = post(
        &app,
        &format!("/api/invoices/{id}/finalize"),
        json!({}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["status"], "open");
    assert!(open["number"].as_str().unwrap().starts_with("BS-"));
    assert!(open["due_date"].is_string());
    let (status, _) = post(
        &app,
        &format!("/api/invoices/{id}/finalize"),
        json!({}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A declined card leaves it open with the failure; a good one pays it.
    let (status, declined) = post(
        &app,
        &format!("/api/invoices/{id}/pay"),
        json!({"payment_method": "pm_card_chargeDeclined"}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["status"], "open");
    assert_eq!(declined["attempt_count"], 1);
    let (status, paid) = post(
        &app,
        &format!("/api/invoices/{id}/pay"),
        json!({"payment_method": "pm_card_visa"}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 120_351);
    assert_eq!(paid["amount_due"], 0);
    let (status, _) = post(&app, &format!("/api/invoices/{id}/pay"), json!({}), &token).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The PDF is the legal document issued at finalization: the number, the customer and the
    // totals, as French amounts (the payment is a fact of the books, not a change to it).
    let response = app
        .get(&format!("/api/invoices/{id}/pdf"), Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf).replace(['\u{202F}', '\u{00A0}'], " ");
    for expected in [
        paid["number"].as_str().unwrap(),
        "Claire Dubois",
        "1 203,51 €",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?}:\n{text}"
        );
    }

    // A second invoice, a draft, is voided (a finalized one could only be credited); the
    // list filters and pages; strangers get 404.
    let (_, second) = post(
        &app,
        "/api/invoices/create",
        json!({"currency": "eur", "items": [{"description": "Support", "quantity": 1, "unit_amount": 1_000}]}),
        &token,
    )
    .await;
    assert_eq!(second["status"], "draft");
    let second_id = second["invoice_id"].as_str().unwrap();
    let (_, voided) = post(
        &app,
        &format!("/api/invoices/{second_id}/void"),
        json!({}),
        &token,
    )
    .await;
    assert_eq!(voided["status"], "void");
    let page = app
        .get_json("/api/invoices/list?limit=1", Some(&token))
        .await;
    assert_eq!(page["data"][0]["invoice_id"], second_id);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .get_json(
            &format!("/api/invoices/list?limit=1&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(next["data"][0]["invoice_id"], id.as_str());
    let paid_only = app
        .get_json("/api/invoices/list?status=paid", Some(&token))
        .await;
    assert_eq!(paid_only["data"].as_array().unwrap().len(), 1);
    let stats = app.get_json("/api/invoices/stats", Some(&token)).await;
    assert_eq!(stats["data"][0]["count_by_status"]["void"], 1);
    assert_eq!(stats["data"][0]["total_paid"], 120_351);
    let stranger = customer(&app, "nosy@example.com").await;
    for path in [
        format!("/api/invoices/{id}"),
        format!("/api/invoices/{id}/pdf"),
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
async fn bad_invoices_are_refused_naming_the_field_and_change_nothing() {
    let app = billing_app().await;
    let token = customer(&app, "strict@example.com").await;
    let before = app.event_count().await;
    let cases = [
        (json!({"currency": "eur", "items": []}), "items"),
        (
            json!({"currency": "xyz", "items": [{"description": "a", "quantity": 1, "unit_amount": 1}]}),
            "currency",
        ),
        (
            json!({"currency": "eur", "items": [{"description": "a", "quantity": 0, "unit_amount": 1}]}),
            "items[0].quantity",
        ),
        (
            json!({"currency": "eur", "items": [{"description": "a", "quantity": 1, "unit_amount": -5}]}),
            "items[0].unit_amount",
        ),
        (
            json!({"currency": "eur", "items": [{"description": " ", "quantity": 1, "unit_amount": 5}]}),
            "items[0].description",
        ),
        (
            json!({"currency": "eur", "items": [{"description": "a", "quantity": 1, "unit_amount": 5, "tax_rate_bps": 10_001}]}),
            "items[0].tax_rate_bps",
        ),
        (
            json!({"currency": "eur", "items": [{"description": "a", "quantity": 1, "unit_amount": 5}], "due_days": 400}),
            "due_days",
        ),
        (
            json!({"currency": "eur", "items": [{"description": "a", "quantity": 1, "unit_amount": 5}], "collection_method": "cash"}),
            "collection_method",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = post(&app, "/api/invoices/create", body, &token).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {error}");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    assert_eq!(app.event_count().await, before);
    let listed = app.get_json("/api/invoices/list", Some(&token)).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn operators_invoice_any_customer_with_their_token_and_nobody_else_can() {
    let app = billing_app().await;
    let session = app
        .register("client@example.com", "correct horse", "Client SARL")
        .await;
    let token = session["token"].as_str().unwrap();
    let customer_id = session["customer"]["id"].as_str().unwrap();
    let path = format!("/api/admin/customers/{customer_id}/invoices");

    let created = app
        .client
        .post(app.url(&path))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&custom_invoice())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let listed = app.get_json("/api/invoices/list", Some(token)).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    for wrong in ["operator-token-for-tests-0123456780", "", token] {
        let refused = app
            .client
            .post(app.url(&path))
            .bearer_auth(wrong)
            .json(&custom_invoice())
            .send()
            .await
            .unwrap();
        assert_error(refused, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let unknown = app
        .client
        .post(app.url("/api/admin/customers/nobody/invoices"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&custom_invoice())
        .send()
        .await
        .unwrap();
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // Without OPERATOR_TOKEN the admin API does not exist.
    let closed = spawn_app_with(&[]).await;
    let response = closed
        .client
        .get(closed.url("/api/admin/stats"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
}
