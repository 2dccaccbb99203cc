//! Credit notes at the provider (the sandbox, as a Stripe account would): a partial note on an
//! unpaid invoice lowers what the provider collects, and a note on a paid invoice refunds the
//! invoice's charge; each announced by `credit_note.created` (and `charge.refunded`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::billing::{admin_stats, billing_app};
use crate::credit_notes::{credit, credited_invoice};
use crate::helpers::{spawn_app, TestApp};
use crate::invoice_documents::{customer, finalized_invoice};

/// The payloads of the sandbox's events of `kind`, oldest first.
async fn sandbox_events(app: &TestApp, kind: &str) -> Vec<Value> {
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM sandbox_webhook_outbox WHERE type = ? ORDER BY seq",
    )
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    payloads
        .iter()
        .map(|payload| serde_json::from_str(payload).unwrap())
        .collect()
}

/// The object of a Stripe-shaped event payload.
fn object(event: &Value) -> &Value {
    &event["data"]["object"]
}

async fn pay(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .post_json(
            &format!("/api/invoices/{id}/pay"),
            &json!({"payment_method": "pm_card_visa"}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn after_a_partial_credit_note_the_provider_collects_only_the_rest() {
    let app = spawn_app().await;
    let body = json!({"reason": "Remise", "lines": [{"line": 0, "quantity": 2}]});
    let (token, invoice, note) = credited_invoice(&app, "rest@example.com", body).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let created = sandbox_events(&app, "credit_note.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(object(&created[0])["amount"], note["total"]);
    assert_eq!(object(&created[0])["type"], "pre_payment");
    assert_eq!(
        object(&created[0])["metadata"]["billstream_credit_note_id"],
        note["credit_note_id"]
    );
    let paid = pay(&app, &token, id).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    let rest = invoice["total"].as_i64().unwrap() - note["total"].as_i64().unwrap();
    assert_eq!(paid["amount_paid"], rest);
    assert_eq!(paid["amount_due"], 0);
}

#[tokio::test]
async fn a_credit_note_on_a_paid_invoice_refunds_its_charge() {
    let app = billing_app().await;
    let token = customer(&app, "refund@example.com", "Claire Dubois").await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    pay(&app, &token, id).await;
    let (status, note) = credit(&app, &token, id, json!({"reason": "Retour"})).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["outcome"], "refund");
    assert_eq!(note["total"], invoice["total"]);
    let refunded = sandbox_events(&app, "charge.refunded").await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(object(&refunded[0])["amount_refunded"], invoice["total"]);
    let created = sandbox_events(&app, "credit_note.created").await;
    assert_eq!(object(&created[0])["type"], "post_payment");
    assert!(object(&created[0])["refund"].is_string());
    // The invoice stays paid; nothing is due.
    let after = app
        .get_json(&format!("/api/invoices/{id}"), Some(&token))
        .await;
    assert_eq!(after["status"], "paid");
    assert_eq!(after["amount_credited"], invoice["total"]);
    assert_eq!(after["amount_due"], 0);
    // The operators' revenue of the month counts the paid invoice less the refunded note.
    let stats = admin_stats(&app).await;
    let month = &stats["currencies"][0]["revenue_by_month"][0];
    assert_eq!(month["invoices"], invoice["total"], "{stats}");
    assert_eq!(month["credit_notes"], invoice["total"], "{stats}");
    assert_eq!(month["net"], 0, "{stats}");
}
