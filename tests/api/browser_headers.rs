//! What browsers are told: CORS only for `CORS_ALLOWED_ORIGINS` (never with credentials), and
//! `X-Content-Type-Options: nosniff`, `X-Frame-Options`, `Referrer-Policy` and a CSP on every
//! response, whatever produced it.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp};

const ALLOWED: &str = "https://app.example.com";

async fn preflight(app: &TestApp, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/auth/login"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn cors_headers(response: &Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only_and_never_with_credentials() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", ALLOWED)]).await;
    let allowed = preflight(&app, ALLOWED).await;
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()["access-control-allow-origin"], ALLOWED);
    assert!(allowed
        .headers()
        .contains_key("access-control-allow-methods"));
    assert!(!allowed
        .headers()
        .contains_key("access-control-allow-credentials"));

    let other = preflight(&app, "https://evil.example").await;
    assert_eq!(
        cors_headers(&other),
        Vec::<String>::new(),
        "a foreign preflight"
    );
    let read = app
        .client
        .get(app.url("/api/plans"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(cors_headers(&read), Vec::<String>::new(), "a foreign read");

    let nobody = spawn_app_with(&[]).await;
    let refused = preflight(&nobody, ALLOWED).await;
    assert_eq!(
        cors_headers(&refused),
        Vec::<String>::new(),
        "no origin configured"
    );
}

#[tokio::test]
async fn a_wildcard_origin_is_answered_without_credentials() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", "*")]).await;
    let response = preflight(&app, "https://anywhere.example").await;
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(!response
        .headers()
        .contains_key("access-control-allow-credentials"));
}

#[tokio::test]
async fn every_kind_of_response_says_nosniff() {
    let app = spawn_app_with(&[
        ("CORS_ALLOWED_ORIGINS", ALLOWED),
        ("OPERATOR_TOKEN", "operator-token-0123456789"),
        ("RATE_LIMITS", "on"),
        ("RATE_LIMIT_REGISTER_PER_ADDRESS", "1/h"),
    ])
    .await;
    let session = app
        .register("ada@example.com", "correct horse", "Ada")
        .await;
    let token = session["token"].as_str().unwrap().to_owned();
    let invoice: serde_json::Value = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "finalize": true,
                    "items": [{"description": "Consulting", "quantity": 1, "unit_amount": 1000}]}),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let pdf = format!(
        "/api/invoices/{}/pdf",
        invoice["invoice_id"].as_str().unwrap()
    );
    let client = &app.client;
    // The shared client follows redirects: this one shows the redirect itself.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("200 json", client.get(app.url("/health"))),
        ("200 pdf", client.get(app.url(&pdf)).bearer_auth(&token)),
        ("200 openapi", client.get(app.url("/api/openapi.json"))),
        ("200 docs page", client.get(app.url("/docs/"))),
        ("303 docs", no_redirects.get(app.url("/docs"))),
        (
            "204",
            client.post(app.url("/api/auth/logout")).bearer_auth(
                app.post_json(
                    "/api/auth/login",
                    &json!({"email": "ada@example.com", "password": "correct horse"}),
                    None,
                )
                .await
                .json::<serde_json::Value>()
                .await
                .unwrap()["token"]
                    .as_str()
                    .unwrap(),
            ),
        ),
        (
            "preflight",
            client
                .request(Method::OPTIONS, app.url("/api/plans"))
                .header("Origin", ALLOWED)
                .header("Access-Control-Request-Method", "GET"),
        ),
        ("401", client.get(app.url("/api/auth/profile"))),
        ("401 admin", client.get(app.url("/api/admin/stats"))),
        ("404 route", client.get(app.url("/nowhere"))),
        (
            "404 object",
            client
                .get(app.url("/api/payments/nope"))
                .bearer_auth(&token),
        ),
        ("405", client.delete(app.url("/api/plans"))),
        (
            "400",
            client
                .post(app.url("/api/auth/login"))
                .header("Content-Type", "application/json")
                .body("{"),
        ),
        (
            "413",
            client
                .post(app.url("/api/auth/login"))
                .header("Content-Type", "application/json")
                .body(vec![b' '; 20_000]),
        ),
        (
            "415",
            client.post(app.url("/api/auth/login")).body("email=x"),
        ),
        (
            "422",
            client.post(app.url("/api/auth/login")).json(&json!({})),
        ),
        (
            "429",
            client
                .post(app.url("/api/auth/register"))
                .json(&json!({"email": "b@example.com", "password": "correct horse", "name": "B"})),
        ),
        (
            "400 webhook",
            client.post(app.url("/api/webhooks/stripe")).body("{}"),
        ),
    ];
    for (label, request) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{label}: {}",
            response.status()
        );
        for (header, value) in [
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(
                response.headers().get(header).map(|v| v.to_str().unwrap()),
                Some(value),
                "{label}: {header}"
            );
        }
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{label}: {policy}"
        );
        if !label.contains("docs") {
            assert!(
                policy.starts_with("default-src 'none'"),
                "{label}: {policy}"
            );
        }
        if let Some(status) = label.split(' ').next().and_then(|s| s.parse::<u16>().ok()) {
            assert_eq!(response.status().as_u16(), status, "{label}");
        }
    }
}
