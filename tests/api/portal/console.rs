//! The operator console at `/admin` over plain HTTP: absent without an operator token, closed
//! to a visitor not signed in, a wrong token shown the form again with its message, the
//! cookie a right one gets and a sign-out ends, guesses at the token rate limited, cross-site
//! posts refused, the reconciliation runs listed, and the charts' amounts.

use reqwest::StatusCode;

use super::client::{browser_like, cookie_value, location, same_site_post, set_cookie};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const TOKEN: &str = "console-operator-token";

/// Signs in to the console of `app` with `token`; returns the `Cookie` header to send.
async fn console_cookie(app: &TestApp, token: &str) -> String {
    let response = same_site_post(app, "/admin/login", &[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let line = set_cookie(&response, "bs_console").expect("a console cookie");
    format!("bs_console={}", cookie_value(&line))
}

async fn console_app() -> TestApp {
    spawn_app_with(&[("OPERATOR_TOKEN", TOKEN)]).await
}

#[tokio::test]
async fn the_console_is_not_found_when_no_operator_token_is_configured() {
    let app = spawn_app().await;
    for path in ["/admin", "/admin/login"] {
        let response = browser_like().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = same_site_post(&app, "/admin/login", &[("token", "anything")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_visitor_not_signed_in_is_sent_to_the_console_sign_in_and_back() {
    let app = console_app().await;
    let response = browser_like().get(app.url("/admin")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/login?next=/admin");
    // The customers' session cookie does not open the console.
    let customer = super::client::sign_up(&app, "not-an-operator@example.com").await;
    let response = browser_like()
        .get(app.url("/admin"))
        .header("cookie", format!("bs_session={customer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_wrong_token_shows_the_form_again_with_the_message() {
    let app = console_app().await;
    let response = same_site_post(
        &app,
        "/admin/login",
        &[("token", "not-the-token"), ("next", "/admin")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&response, "bs_console").is_none());
    let body = response.text().await.unwrap();
    assert!(body.contains("That is not the operator token."), "{body}");
    assert!(body.contains(r#"name="token""#), "{body}");
}

#[tokio::test]
async fn the_right_token_opens_the_console_with_a_strict_cookie_scoped_to_admin() {
    let app = console_app().await;
    let response = same_site_post(
        &app,
        "/admin/login",
        &[("token", TOKEN), ("next", "https://evil.example/")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin");
    let line = set_cookie(&response, "bs_console").expect("a console cookie");
    for attribute in ["Path=/admin", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(line.contains(attribute), "{line}");
    }
    let cookie = format!("bs_console={}", cookie_value(&line));
    let page = browser_like()
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("payments"), "{body}");
    // Signing out drops the cookie.
    let out = browser_like()
        .post(app.url("/admin/logout"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), "/admin/login");
    let dropped = set_cookie(&out, "bs_console").expect("the cookie is dropped");
    assert!(dropped.contains("Max-Age=0"), "{dropped}");
}

#[tokio::test]
async fn signing_out_ends_the_session_even_for_a_copy_of_its_cookie() {
    let app = console_app().await;
    let kept = console_cookie(&app, TOKEN).await;
    let other_tab = console_cookie(&app, TOKEN).await;
    let open = |cookie: String| {
        let url = app.url("/admin");
        async move {
            browser_like()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(open(kept.clone()).await, StatusCode::OK);
    // A stranger's sign-out (no valid cookie) ends nobody's session.
    let stranger = browser_like()
        .post(app.url("/admin/logout"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(location(&stranger), "/admin/login");
    assert_eq!(open(kept.clone()).await, StatusCode::OK);
    let out = browser_like()
        .post(app.url("/admin/logout"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &other_tab)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), "/admin/login");
    // Both cookies signed in before the sign-out are refused from now on; a new sign-in works.
    assert_eq!(open(kept).await, StatusCode::SEE_OTHER);
    assert_eq!(open(other_tab).await, StatusCode::SEE_OTHER);
    let again = console_cookie(&app, TOKEN).await;
    assert_eq!(open(again).await, StatusCode::OK);
}

#[tokio::test]
async fn guesses_at_the_operator_token_are_rate_limited_by_address() {
    let app = spawn_app_with(&[
        ("OPERATOR_TOKEN", TOKEN),
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_LOGIN_PER_ADDRESS", "3/min"),
    ])
    .await;
    for _ in 0..3 {
        let response = same_site_post(&app, "/admin/login", &[("token", "a guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = same_site_post(&app, "/admin/login", &[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert!(set_cookie(&response, "bs_console").is_none());
}

#[tokio::test]
async fn a_cross_site_post_to_the_console_is_refused() {
    let app = console_app().await;
    let response = browser_like()
        .post(app.url("/admin/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "bs_console").is_none());
    let response = browser_like()
        .post(app.url("/admin/projections/payments/rebuild"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_reconciliation_runs_page_lists_a_repaired_run_and_the_charts_draw_its_revenue() {
    let (app, _payment_id, lost) = crate::reconcile::a_lost_success(&[]).await;
    let cookie = console_cookie(&app, crate::reconcile::OPERATOR).await;
    let page = |cookie: String| {
        let app = &app;
        async move {
            let response = browser_like()
                .get(app.url("/admin/reconciliations"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    assert!(page(cookie.clone())
        .await
        .contains("No reconciliation run is recorded yet."));
    crate::reconcile::reconcile(&app, &["--since", "1h", "--wait", "15"]).await;
    let body = page(cookie).await;
    assert!(
        body.contains(&format!("{lost} (payment_intent.succeeded)")),
        "{body}"
    );
}

#[tokio::test]
async fn the_reconciliation_runs_page_shows_an_object_brought_forward() {
    let (app, payment_id, _lost) = crate::reconcile::a_lost_success(&[]).await;
    let intent: String =
        sqlx::query_scalar("SELECT payment_intent_id FROM payments WHERE payment_id = ?")
            .bind(&payment_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // The lost event falls before the window: the object pass repairs the payment.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    crate::reconcile::reconcile(&app, &["--since", &since]).await;
    let cookie = console_cookie(&app, crate::reconcile::OPERATOR).await;
    let body = browser_like()
        .get(app.url("/admin/reconciliations"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains(&format!(
            "payment_intent {intent}: requires_action → succeeded"
        )),
        "{body}"
    );
}

#[tokio::test]
async fn a_time_the_event_log_cannot_read_is_said_so_instead_of_ignored() {
    let app = console_app().await;
    let cookie = console_cookie(&app, TOKEN).await;
    let response = browser_like()
        .get(app.url("/admin/events?from=yesterday"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("is not a time"), "{body}");
    assert!(body.contains("No event matches."), "{body}");
}
