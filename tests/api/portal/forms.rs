//! The portal's forms and pages over HTTP: a mistake is shown again next to its field with
//! what was typed, with a 4xx and nothing changed; the language follows the browser until the
//! switch is used, plan features included; signed invoice links open signed out, altered ones
//! do not.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{browser_like, location, page, same_site_post, set_cookie, sign_up};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_mistyped_sign_up_is_shown_again_with_the_message_next_to_the_field() {
    let app = spawn_app().await;
    let before = app.event_count().await;
    let response = same_site_post(
        &app,
        "/register",
        &[
            ("name", "Ada Lovelace"),
            ("email", "not-an-address"),
            ("password", "correct horse battery"),
            ("next", "/dashboard"),
        ],
    )
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&response, "bs_session").is_none());
    let body = response.text().await.expect("a body");
    assert!(body.contains(r#"id="email" name="email" type="email" value="not-an-address""#));
    assert!(body.contains(r#"aria-describedby="email-error""#), "{body}");
    assert!(body.contains(r#"<p class="error" id="email-error">Enter an e-mail address"#));
    assert!(body.contains(r#"value="Ada Lovelace""#), "the name is kept");
    assert_eq!(app.event_count().await, before, "no customer was created");
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_next_to_its_field() {
    let app = spawn_app().await;
    let token = sign_up(&app, "pw@example.com").await;
    let change = |current: &'static str| {
        same_site_post(
            &app,
            "/account/password",
            &[
                ("current_password", current),
                ("new_password", "another long one"),
            ],
        )
        .header("cookie", format!("bs_session={token}"))
    };
    let refused = change("not my password").send().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.expect("a body");
    assert!(body.contains(r#"id="current_password-error">This is not your current password."#));
    let old = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "pw@example.com", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(old.status(), StatusCode::OK, "the password is unchanged");

    let changed = change("correct horse battery").send().await.expect("sent");
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let new = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "pw@example.com", "password": "another long one"}),
            None,
        )
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bad_invoice_line_is_shown_again_and_no_invoice_is_created() {
    let app = spawn_app().await;
    let token = sign_up(&app, "lines@example.com").await;
    let response = same_site_post(
        &app,
        "/invoices/new",
        &[
            ("currency", "eur"),
            ("description", "Audit"),
            ("quantity", "two"),
            ("unit_amount", "500"),
            ("tax_rate", "20"),
            ("due_days", "30"),
            ("finalize", "on"),
            ("form_key", "3f0c3c1e-4a7e-4e55-9d0e-5b2f2c1a0b01"),
        ],
    )
    .header("cookie", format!("bs_session={token}"))
    .send()
    .await
    .expect("the form is sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.expect("a body");
    assert!(body.contains("Enter a whole quantity"), "{body}");
    assert!(body.contains(r#"value="two""#), "the typed value is kept");
    let list: Value = app.get_json("/api/invoices/list", Some(&token)).await;
    assert_eq!(list["data"], json!([]), "{list}");
}

#[tokio::test]
async fn the_language_follows_the_browser_until_the_switch_is_used() {
    let app = spawn_app().await;
    let asked = |language: &'static str, cookie: Option<String>| {
        let mut request = browser_like()
            .get(app.url("/"))
            .header("accept-language", language);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move {
            request
                .send()
                .await
                .expect("sent")
                .text()
                .await
                .expect("body")
        }
    };
    assert!(asked("fr-FR,fr;q=0.9,en;q=0.5", None)
        .await
        .contains(r#"<html lang="fr">"#));
    assert!(asked("de-DE,en;q=0.8", None)
        .await
        .contains(r#"<html lang="en">"#));

    let switch = browser_like()
        .get(app.url("/language/en?next=%2Fplans"))
        .send()
        .await
        .expect("the switch answers");
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switch), "/plans");
    let line = set_cookie(&switch, "bs_lang").expect("the choice is remembered");
    assert!(line.contains("Max-Age=31536000"), "{line}");
    let cookie = line.split(';').next().unwrap_or_default().to_owned();
    let english = asked("fr-FR,fr;q=0.9", Some(cookie)).await;
    assert!(english.contains(r#"<html lang="en">"#), "the switch wins");
}

#[tokio::test]
async fn the_plans_page_lists_each_plan_s_features_in_the_visitor_s_language() {
    let app = spawn_app().await;
    let plans = |language: &'static str| {
        let request = browser_like()
            .get(app.url("/plans"))
            .header("accept-language", language);
        async move {
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("body")
        }
    };
    let english = plans("en-GB").await;
    assert!(english.contains("<li>Online payments</li>"), "{english}");
    assert!(english.contains("<li>Everything in Particulier</li>"));
    assert!(
        !english.contains("Paiements en ligne"),
        "no French on the English page"
    );
    let french = plans("fr-FR").await;
    assert!(french.contains("<li>Paiements en ligne</li>"), "{french}");
    assert!(!french.contains("Online payments"));
}

#[tokio::test]
async fn a_signed_invoice_link_opens_signed_out_and_an_altered_one_does_not() {
    let app = spawn_app().await;
    let token = sign_up(&app, "link@example.com").await;
    let created = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                "items": [{"description": "Audit", "quantity": 2, "unit_amount": 50000,
                           "tax_rate_bps": 2000}]}),
            Some(&token),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let invoice: Value = created.json().await.expect("json");
    let id = invoice["invoice_id"].as_str().expect("an id");
    let (status, own) = page(&app, &format!("/invoices/{id}"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let link = own
        .split("<p class=\"share\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page shows its signed link")
        .replace("&#38;", "&");
    assert!(link.starts_with(&format!("/i/{id}?expires=")), "{link}");

    let (status, public) = page(&app, &link, None).await;
    assert_eq!(status, StatusCode::OK, "{link}: {public}");
    assert!(public.contains("1,200.00"), "the total is shown");
    let pdf = browser_like()
        .get(app.url(&link.replacen('?', "/pdf?", 1)))
        .send()
        .await
        .expect("the PDF answers");
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF-"));

    let altered = link.replace("expires=", "expires=1");
    let (status, _) = page(&app, &altered, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a changed expiry");
    let other = link.replace(id, "00000000-0000-0000-0000-000000000000");
    let (status, _) = page(&app, &other, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another invoice's id");
}

#[tokio::test]
async fn a_mistyped_amount_is_shown_again_and_no_payment_is_created() {
    let app = spawn_app().await;
    let token = sign_up(&app, "amount@example.com").await;
    let before = app.event_count().await;
    for amount in ["abc", "-5", "12,3456", ""] {
        let response = same_site_post(
            &app,
            "/pay",
            &[("amount", amount), ("currency", "eur"), ("description", "")],
        )
        .header("cookie", format!("bs_session={token}"))
        .send()
        .await
        .expect("the form is sent");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{amount:?}"
        );
        let body = response.text().await.expect("a body");
        assert!(body.contains(r#"id="amount-error""#), "{amount:?}: {body}");
        assert!(
            body.contains(&format!(r#"value="{amount}""#)),
            "{amount:?} is kept"
        );
    }
    assert_eq!(app.event_count().await, before, "no payment was created");
}

#[tokio::test]
async fn a_wrong_address_or_action_gets_a_page_saying_so_never_a_server_error() {
    let app = spawn_app().await;
    let token = sign_up(&app, "typos@example.com").await;
    let cookie = format!("bs_session={token}");
    let reads = [
        "/invoices/not-an-invoice",
        "/invoices/00000000-0000-0000-0000-000000000000/pdf",
        "/invoices?status=bogus&cursor=garbage",
        "/pay/not-a-payment",
        "/pay/not-a-payment/status",
        "/pay/not-a-payment/challenge",
        "/plans/no-such-plan/subscribe",
        "/dashboard/subscriptions/nope/change?plan=professionnel",
        "/i/nope?expires=soon&signature=zz",
        "/i/nope/pdf",
        "/language/xx?next=/",
        "/assets/../Cargo.toml",
        "/assets/js/missing.js",
    ];
    for path in reads {
        let response = browser_like()
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("the page answers");
        let status = response.status();
        assert!(
            status.is_client_error() || status.is_redirection(),
            "{path}: {status}"
        );
    }
    let writes = [
        "/dashboard/subscriptions/nope/cancel",
        "/dashboard/subscriptions/nope/resume",
        "/dashboard/subscriptions/nope/change",
        "/dashboard/payments/nope/refund",
        "/invoices/nope/pay",
        "/invoices/nope/finalize",
        "/pay/nope/confirm",
        "/plans/no-such-plan/subscribe",
    ];
    for path in writes {
        let response = same_site_post(&app, path, &[("plan", "nope"), ("amount", "x")])
            .header("cookie", &cookie)
            .send()
            .await
            .expect("the post is sent");
        let status = response.status();
        assert!(status.is_client_error(), "{path}: {status}");
    }
}
