//! What localstripe 1.15.10 cannot do for invoices, pinned so that the day it can, this fails
//! and Stripe-mode issuance gets its end-to-end test there. Today billstream's invoice
//! creation (`POST /v1/invoices` with `currency`, `collection_method`, `auto_advance`,
//! `days_until_due`, as Stripe documents them) makes localstripe fail with a 500, so the API
//! answers 502 `payment_provider_error` and records nothing; localstripe has no
//! `/v1/invoices/{id}/finalize` and no `/v1/credit_notes` either. The issued-once documents are
//! tested end to end on the sandbox (`invoice_issuance`, `invoice_documents`).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

#[tokio::test]
async fn localstripe_cannot_create_a_stripe_invoice_so_the_api_answers_502_and_records_nothing() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
    ])
    .await;
    let token = app.token_for("invoice-in-stripe-mode@example.com").await;
    let events_before = app.event_count().await;
    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({
                "currency": "eur",
                "items": [{"description": "Audit", "quantity": 1, "unit_amount": 10_000, "tax_rate_bps": 2_000}],
                "due_days": 15
            }),
            Some(&token),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_GATEWAY, "payment_provider_error").await;
    assert!(!body.to_string().contains(LOCALSTRIPE_KEY), "{body}");
    assert_eq!(app.event_count().await, events_before);
    let listed: serde_json::Value = app.get_json("/api/invoices/list", Some(&token)).await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0), "{listed}");
    // Nor does it know Stripe's credit notes.
    let (status, _) = localstripe.get("/v1/credit_notes").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
