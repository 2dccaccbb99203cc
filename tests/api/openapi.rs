//! The published contract: the OpenAPI 3.1 document served at `/api/openapi.json` covers every
//! route with its security scheme and error answers, equals the copy checked in at
//! `docs/openapi.json` (regenerate it with `UPDATE_OPENAPI=1 cargo test --test api openapi::`),
//! and the `/docs` page works offline.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;

use fantoccini::Locator;

use crate::helpers::spawn_app;
use crate::support::browser::with_browser;

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

fn checked_in_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json")
}

/// Every `(method, path)` the document describes.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                found.push((method.to_string(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_with_the_security_schemes() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["customer_token"]["scheme"], "bearer");
    assert_eq!(schemes["customer_token"]["bearerFormat"], "JWT");
    assert_eq!(schemes["operator_token"]["scheme"], "bearer");
    assert_eq!(schemes["stripe_signature"]["name"], "Stripe-Signature");
    assert_eq!(&document, billstream::http::openapi::document());
}

#[tokio::test]
async fn every_operation_names_its_errors_and_customer_routes_their_token() {
    let document = billstream::http::openapi::document();
    let operations = operations(document);
    assert!(operations.len() >= 38, "{} operations", operations.len());
    for (method, path, operation) in &operations {
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path}: no success answer"
        );
        assert!(responses.contains_key("500"), "{method} {path}: no 500");
        let customer_route = ["/api/auth/profile", "/api/payments", "/api/subscriptions"]
            .iter()
            .chain(&["/api/invoices", "/api/billing", "/api/auth/password"])
            .any(|prefix| path.starts_with(prefix))
            // The forgotten password is for customers who cannot sign in.
            && !path.starts_with("/api/auth/password-reset");
        if customer_route {
            assert!(
                operation["security"][0].get("customer_token").is_some(),
                "{method} {path}: no customer_token"
            );
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        if path.starts_with("/api/admin") {
            assert!(
                operation["security"][0].get("operator_token").is_some(),
                "{method} {path}: no operator_token"
            );
        }
        if path == "/api/webhooks/stripe" {
            assert!(
                operation["security"][0].get("stripe_signature").is_some(),
                "{method} {path}: no stripe_signature"
            );
        }
    }
}

/// A route exists without a spec entry only if it was registered around `utoipa_axum`'s
/// `routes!` (which takes the route and its entry from one `#[utoipa::path]`): the HTTP layer
/// registers no route any other way, except the `/docs` page itself.
#[test]
fn no_route_is_registered_without_its_spec_entry() {
    let mut offenders = Vec::new();
    for path in rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")) {
        if path.ends_with("openapi.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for (number, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let plain_router = code.contains("Router::new()") && !code.contains("OpenApiRouter");
            for pattern in [".route(", ".route_service(", ".nest_service("] {
                if code.contains(pattern) || (pattern == ".route(" && plain_router) {
                    offenders.push(format!("{}:{}: {code}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes registered without routes!(…):\n{}",
        offenders.join("\n")
    );
}

/// utoipa names a component after its Rust type: two types of one name in different modules
/// would silently share one schema (the last registered wins), so every name is unique.
#[test]
fn every_schema_name_is_unique() {
    let mut names = std::collections::BTreeMap::<String, Vec<String>>::new();
    for path in rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")) {
        let source = std::fs::read_to_string(&path).unwrap();
        let mut derives_schema = false;
        for line in source.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                derives_schema = true;
            }
            let declared = ["pub struct ", "struct ", "pub enum ", "enum "]
                .iter()
                .find_map(|keyword| line.strip_prefix(keyword));
            if let Some(rest) = declared {
                if derives_schema {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names
                        .entry(name)
                        .or_default()
                        .push(path.display().to_string());
                }
                derives_schema = false;
            }
        }
    }
    let shared: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "schema names declared more than once: {shared:?}"
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found
}

/// And the other way: every operation of the document reaches a handler (the fallback's
/// `no such route` and the router's 405 would say otherwise).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    for (method, path, _) in operations(billstream::http::openapi::document()) {
        let concrete = path.replace(['{', '}'], "");
        let response = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!body.contains("no such route"), "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn the_checked_in_document_is_the_generated_one() {
    let generated =
        serde_json::to_string_pretty(billstream::http::openapi::document()).unwrap() + "\n";
    let path = checked_in_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json differs from the API's document: regenerate it with \
         `UPDATE_OPENAPI=1 cargo test --test api openapi::` and review the diff"
    );
}

#[tokio::test]
async fn the_docs_page_works_offline() {
    let app = spawn_app().await;
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads something from elsewhere:\n{html}"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let response = app.get(&format!("/docs/{asset}"), None).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let text = response.text().await.unwrap();
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/api/openapi.json"), "{text}");
        }
    }
}

/// Swagger UI really renders the document in Chromium, under the page's CSP, with nothing
/// but this server to load from.
#[tokio::test]
async fn the_docs_page_renders_the_operations_in_a_browser() {
    let app = spawn_app().await;
    let url = app.url("/docs/");
    with_browser("openapi::docs_page", 1280, 900, |client| async move {
        client.goto(&url).await?;
        let mut operations = 0;
        for _ in 0..100 {
            operations = client.find_all(Locator::Css(".opblock")).await?.len();
            if operations > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::ensure!(operations >= 38, "{operations} operations shown");
        let title = client
            .find(Locator::Css(".info .title"))
            .await?
            .text()
            .await?;
        anyhow::ensure!(title.contains("billstream"), "the title reads {title:?}");
        Ok(())
    })
    .await;
}
