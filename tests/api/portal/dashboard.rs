//! What the dashboard and the invoice list change or show, over HTTP, checked through the JSON
//! API (the same use cases answer both): the subscription canceled at period end, resumed and
//! moved to another plan after its price difference was shown; a payment refunded in part, and
//! too large a refund refused next to its field; invoices filtered by status and paged.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{location, page, same_site_post, sign_up};
use crate::helpers::{spawn_app, TestApp};

/// A form post from the portal by the signed-in customer.
async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let response = same_site_post(app, path, form)
        .header("cookie", format!("bs_session={token}"))
        .send()
        .await
        .expect("the form is sent");
    let status = response.status();
    let to = location(&response).to_owned();
    (status, to, response.text().await.expect("a body"))
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.post_json(path, &body, Some(token)).await;
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("json")
}

#[tokio::test]
async fn the_dashboard_cancels_resumes_and_changes_plan_after_showing_the_difference() {
    let app = spawn_app().await;
    let token = sign_up(&app, "plan@example.com").await;
    let subscription = created(
        &app,
        &token,
        "/api/subscriptions",
        json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
    )
    .await;
    let id = subscription["subscription_id"].as_str().expect("an id");
    let path = format!("/api/subscriptions/{id}");
    let read = || app.get_json(&path, Some(&token));

    let (_, dashboard) = page(&app, "/dashboard", Some(&token)).await;
    assert!(dashboard.contains(&format!("/dashboard/subscriptions/{id}/cancel")));
    let (status, to, _) = post(
        &app,
        &token,
        &format!("/dashboard/subscriptions/{id}/cancel"),
        &[],
    )
    .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/dashboard"));
    assert_eq!(read().await["cancel_at_period_end"], true);
    let (_, dashboard) = page(&app, "/dashboard", Some(&token)).await;
    assert!(dashboard.contains(&format!("/dashboard/subscriptions/{id}/resume")));

    let (status, _, _) = post(
        &app,
        &token,
        &format!("/dashboard/subscriptions/{id}/resume"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(read().await["cancel_at_period_end"], false);

    let preview = format!("/dashboard/subscriptions/{id}/change?plan=professionnel");
    let (status, shown) = page(&app, &preview, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        shown.contains("You will pay €20.00 more per month."),
        "{shown}"
    );
    assert_eq!(
        read().await["plan"],
        "particulier",
        "showing changes nothing"
    );
    let (status, _, _) = post(
        &app,
        &token,
        &format!("/dashboard/subscriptions/{id}/change"),
        &[("plan", "professionnel")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(read().await["plan"], "professionnel");
}

#[tokio::test]
async fn a_payment_is_refunded_in_part_and_too_large_a_refund_is_refused_next_to_it() {
    let app = spawn_app().await;
    let token = sign_up(&app, "refund@example.com").await;
    let intent = created(
        &app,
        &token,
        "/api/payments/create-intent",
        json!({"amount": 2000, "currency": "eur"}),
    )
    .await;
    let (status, _) = app
        .confirm(
            &token,
            intent["payment_intent_id"].as_str().expect("pi"),
            "pm_card_visa",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = intent["payment_id"].as_str().expect("an id");
    let refund = format!("/dashboard/payments/{id}/refund");
    let refunded = || async {
        app.get_json(&format!("/api/payments/{id}"), Some(&token))
            .await["refunded_amount"]
            .clone()
    };

    let (status, to, _) = post(&app, &token, &refund, &[("amount", "5,00")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/dashboard"));
    assert_eq!(refunded().await, 500);

    let (status, _, body) = post(&app, &token, &refund, &[("amount", "100")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Enter an amount up to what remains to refund."),
        "{body}"
    );
    assert!(body.contains(r#"value="100""#), "the typed amount is kept");
    assert_eq!(refunded().await, 500, "nothing more was refunded");
}

#[tokio::test]
async fn the_invoice_list_filters_by_status_and_pages_ten_at_a_time() {
    let app = spawn_app().await;
    let token = sign_up(&app, "list@example.com").await;
    let (_, empty) = page(&app, "/invoices", Some(&token)).await;
    assert!(empty.contains("No invoices yet."), "{empty}");
    for number in 0..12 {
        let finalize = number < 11;
        created(
            &app,
            &token,
            "/api/invoices/create",
            json!({"currency": "eur", "finalize": finalize,
                   "items": [{"description": "Line", "quantity": 1, "unit_amount": 1000}]}),
        )
        .await;
    }
    // One actions cell per row (a draft has no download link: it has no document yet).
    let rows = |html: &str| html.matches(r#"<td class="actions">"#).count();
    let (_, first) = page(&app, "/invoices", Some(&token)).await;
    assert_eq!(rows(&first), 10, "ten on a page");
    let older = first
        .split(r#"rel="next""#)
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|href| href.split('"').next())
        .expect("a link to older invoices")
        .replace("&#38;", "&");
    let (status, second) = page(&app, &older, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{older}");
    assert_eq!(rows(&second), 2, "the rest on the next page");

    let (_, drafts) = page(&app, "/invoices?status=draft", Some(&token)).await;
    assert_eq!(rows(&drafts), 1, "only the draft");
    let (_, paid) = page(&app, "/invoices?status=paid", Some(&token)).await;
    assert!(paid.contains("No invoices with this status."), "{paid}");
}
