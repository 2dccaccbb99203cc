//! Subscriptions and invoices on the sandbox: a whole subscription life on the test clock,
//! custom invoices from draft to PDF, the operators' API and statistics, replay.

use std::time::Duration;

use projections::{Invoices, Projector, Subscriptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};
use crate::support::pdf_tools::pdftotext;

const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789";
const DAY: i64 = 86_400;

pub(crate) async fn billing_app() -> TestApp {
    spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR_TOKEN)]).await
}

async fn customer(app: &TestApp, email: &str) -> String {
    let session = app.register(email, "correct horse", "Claire Dubois").await;
    session["token"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    let response = app.post_json(path, &body, Some(token)).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn advance(app: &TestApp, seconds: i64) -> Value {
    let response = app
        .post_json(
            "/sandbox/clock/advance",
            &json!({ "seconds": seconds }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls `path` until `done` holds (the sandbox's webhooks arrive asynchronously).
async fn until(app: &TestApp, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = app.get_json(path, Some(token)).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state; last: {last}");
}

fn count_status(invoices: &Value, status: &str) -> usize {
    invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|invoice| invoice["status"] == status)
        .count()
}

pub(crate) async fn admin_stats(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/admin/stats"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_subscription_lives_from_trial_to_renewals_to_failed_payments_to_cancellation() {
    let app = billing_app().await;
    let token = customer(&app, "life@example.com").await;

    // Given a trial on the particulier plan, paid by a card that works.
    let (status, created) = post(
        &app,
        "/api/subscriptions",
        json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "trialing");
    assert_eq!(created["plan"], "particulier");
    assert_eq!(created["amount"], 990);
    assert!(created["trial_end"].is_string());
    let id = created["subscription_id"].as_str().unwrap().to_owned();
    let path = format!("/api/subscriptions/{id}");

    // A second live subscription to the same plan is refused.
    let (status, body) = post(
        &app,
        "/api/subscriptions",
        json!({"plan": "particulier"}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "already_subscribed");

    // When the trial ends, the first period is invoiced and paid: active.
    let clock = advance(&app, 14 * DAY + 3600).await;
    assert!(clock["steps_run"].as_u64().unwrap() >= 1);
    until(&app, &path, &token, |s| s["status"] == "active").await;
    let invoices = until(&app, "/api/invoices/list", &token, |l| {
        count_status(l, "paid") == 1
    })
    .await;
    let first = &invoices["data"][0];
    assert_eq!(first["total"], 990);
    assert_eq!(
        first["stripe_subscription_id"],
        created["stripe_subscription_id"]
    );
    let number = first["number"].as_str().unwrap();
    assert!(
        number.starts_with("BS-") && number.ends_with("-000001"),
        "{number}"
    );

    // A month later the renewal is paid too.
    advance(&app, 31 * DAY).await;
    until(&app, "/api/invoices/list", &token, |l| {
        count_status(l, "paid") == 2
    })
    .await;

    // The card starts failing: the next renewal leaves the subscription past due.
    let response = app
        .post_json(
            "/api/billing/payment-method",
            &json!({"payment_method": "pm_card_chargeCustomerFail"}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    advance(&app, 31 * DAY).await;
    until(&app, &path, &token, |s| s["status"] == "past_due").await;
    let invoices = until(&app, "/api/invoices/list", &token, |l| {
        l["data"][0]["attempt_count"] == 1
    })
    .await;
    let unpaid = &invoices["data"][0];
    assert_eq!(unpaid["status"], "open");
    assert_eq!(unpaid["amount_due"], 990);
    assert_eq!(unpaid["last_payment_error"], "Your card was declined.");
    assert!(unpaid["next_payment_attempt"].is_string());

    // Every retry fails; after the last one the subscription is canceled.
    advance(&app, 16 * DAY).await;
    let ended = until(&app, &path, &token, |s| s["status"] == "canceled").await;
    assert!(ended["ended_at"].is_string());
    let invoices = until(&app, "/api/invoices/list", &token, |l| {
        l["data"][0]["attempt_count"] == 4
    })
    .await;
    assert_eq!(count_status(&invoices, "paid"), 2);
    assert_eq!(count_status(&invoices, "open"), 1);

    // The customer's statistics and the operators' agree.
    let stats = app.get_json("/api/invoices/stats", Some(&token)).await;
    let eur = &stats["data"][0];
    assert_eq!(eur["currency"], "eur");
    assert_eq!(eur["count_by_status"]["paid"], 2);
    assert_eq!(eur["count_by_status"]["open"], 1);
    assert_eq!(eur["total_invoiced"], 2_970);
    assert_eq!(eur["total_paid"], 1_980);
    assert_eq!(eur["total_outstanding"], 990);
    let admin = admin_stats(&app).await;
    assert_eq!(admin["subscriptions_by_status"]["canceled"], 1);
    assert_eq!(admin["currencies"][0]["mrr"], 0);
    let revenue: i64 = admin["currencies"][0]["revenue_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|month| month["invoices"].as_i64().unwrap())
        .sum();
    assert_eq!(revenue, 1_980);
    assert_eq!(admin["new_customers_by_month"][0]["count"], 1);
    assert_eq!(admin["churned_subscriptions_by_month"][0]["count"], 1);

    // Replay rebuilds the same views from the log.
    let live = (
        Subscriptions::all(&app.pool).await.unwrap(),
        Invoices::all(&app.pool).await.unwrap(),
    );
    sqlx::query("UPDATE invoices SET status = 'corrupted'")
        .execute(&app.pool)
        .await
        .unwrap();
    Projector::with_all_projections(app.pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();
    let replayed = (
        Subscriptions::all(&app.pool).await.unwrap(),
        Invoices::all(&app.pool).await.unwrap(),
    );
    assert_eq!(replayed, live);
}

#[tokio::test]
async fn a_subscription_can_change_plan_cancel_at_period_end_resume_and_cancel_now() {
    let app = billing_app().await;
    let token = customer(&app, "changes@example.com").await;
    let (status, created) = post(
        &app,
        "/api/subscriptions",
        json!({"plan": "professionnel", "payment_method": "pm_card_visa", "trial_days": 0}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "active");
    let id = created["subscription_id"].as_str().unwrap().to_owned();

    let (status, changed) = post(
        &app,
        &format!("/api/subscriptions/{id}/change-plan"),
        json!({"plan": "particulier"}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["plan"], "particulier");
    assert_eq!(changed["amount"], 990);

    let (_, cancelling) = post(
        &app,
        &format!("/api/subscriptions/{id}/cancel"),
        json!({"at_period_end": true}),
        &token,
    )
    .await;
    assert_eq!(cancelling["cancel_at_period_end"], true);
    assert_eq!(cancelling["status"], "active");
    let (_, resumed) = post(
        &app,
        &format!("/api/subscriptions/{id}/resume"),
        json!({}),
        &token,
    )
    .await;
    assert_eq!(resumed["cancel_at_period_end"], false);
    let (status, body) = post(
        &app,
        &format!("/api/subscriptions/{id}/resume"),
        json!({}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // The proration of the change lands on the next invoice: credit for the unused time on
    // professionnel, charge for the remaining time on particulier.
    advance(&app, 32 * DAY).await;
    let invoices = until(&app, "/api/invoices/list", &token, |l| {
        count_status(l, "paid") == 2
    })
    .await;
    let renewal = &invoices["data"][0];
    let descriptions: Vec<&str> = renewal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["description"].as_str().unwrap())
        .collect();
    assert!(
        descriptions.iter().any(|d| d.starts_with("Unused time")),
        "{renewal}"
    );
    assert!(renewal["total"].as_i64().unwrap() < 990, "{renewal}");
    // Its legal document shows the unused time as a negative quantity at a positive price
    // (EN 16931 forbids a negative price), and the validator accepts it.
    let renewal_id = renewal["invoice_id"].as_str().unwrap();
    let pdf = app
        .get(&format!("/api/invoices/{renewal_id}/pdf"), Some(&token))
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let report = crate::support::pdf_tools::facturx_check(&pdf.bytes().await.unwrap());
    assert!(report.is_valid(), "{report:?}");
    assert!(
        report
            .xml
            .unwrap()
            .contains("<ram:BilledQuantity unitCode=\"C62\">-1</ram:BilledQuantity>"),
        "the unused time is one unit credited"
    );

    let (_, canceled) = post(
        &app,
        &format!("/api/subscriptions/{id}/cancel"),
        json!({"at_period_end": false}),
        &token,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    let (status, again) = post(
        &app,
        &format!("/api/subscriptions/{id}/cancel"),
        json!({"at_period_end": false}),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    // Someone else sees none of it; unknown plans and bad trials name their field.
    let stranger = customer(&app, "stranger@example.com").await;
    let hidden = app
        .get(&format!("/api/subscriptions/{id}"), Some(&stranger))
        .await;
    assert_error(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let (status, body) = post(
        &app,
        "/api/subscriptions",
        json!({"plan": "platinum"}),
        &stranger,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "plan", "{body}");
    let (status, body) = post(
        &app,
        "/api/subscriptions",
        json!({"plan": "particulier", "trial_days": -1}),
        &stranger,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "trial_days", "{body}");
}

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
