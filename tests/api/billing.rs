//! Subscriptions on the sandbox: a whole subscription life on the test clock, plan changes and
//! cancellations, the operators' statistics, replay; and the helpers the billing tests share.

use std::time::Duration;

use projections::{Invoices, Projector, Subscriptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};

pub(crate) const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789";
const DAY: i64 = 86_400;

pub(crate) async fn billing_app() -> TestApp {
    spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR_TOKEN)]).await
}

pub(crate) async fn customer(app: &TestApp, email: &str) -> String {
    let session = app.register(email, "correct horse", "Claire Dubois").await;
    session["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    body: Value,
    token: &str,
) -> (StatusCode, Value) {
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
