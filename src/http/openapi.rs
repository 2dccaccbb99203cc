//! The OpenAPI 3.1 document, built from the handlers' `#[utoipa::path]` annotations (each
//! module's `routes()` registers a handler and its spec entry together), then completed here
//! in one place: the security schemes, and the error answers every operation shares (401 on
//! authenticated routes, 404 where a path names something, 400/408/413/415/422 where a body is
//! read, 429 on rate-limited routes, 500 everywhere). Served at `GET /api/openapi.json`; the
//! docs page at `/docs` (Swagger UI, its assets embedded at build time) reads it. The copy
//! checked in at `docs/openapi.json` is compared with this one by `tests/api/openapi.rs`.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error::{ErrorBody, ErrorDetail};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

/// Where the human docs page is served.
pub const DOCS_PATH: &str = "/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "billstream",
        version = env!("CARGO_PKG_VERSION"),
        description = "Event-sourced billing on Stripe: customer accounts, payments, \
            subscriptions and invoices. Amounts are integer minor units with a lower-case ISO \
            4217 currency; times are RFC 3339 UTC. Every error is \
            `{\"error\":{\"code\",\"message\"[,\"field\"]}}`; every response carries an \
            `x-request-id`. Rate-limited routes answer 429 with `Retry-After`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "auth", description = "Accounts, bearer tokens, profile and password"),
        (name = "payments", description = "PaymentIntents, confirmation, refunds, history"),
        (name = "subscriptions", description = "Plans subscribed to, cancellation, plan changes"),
        (name = "billing", description = "The caller's default payment method"),
        (name = "invoices", description = "Invoices, their actions, PDF and figures"),
        (name = "plans", description = "The public plan catalog"),
        (name = "admin", description = "The operators' API (`OPERATOR_TOKEN`; 404 when unset)"),
        (name = "webhooks", description = "Stripe's deliveries"),
        (name = "sandbox", description = "The offline sandbox's bank and test clock (404 with Stripe)"),
        (name = "service", description = "Health, readiness, client configuration, this document"),
    )
)]
pub struct ApiDoc;

/// The document as served (built once).
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| complete(super::api_routes().into_openapi()))
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub async fn openapi_json() -> Json<&'static Value> {
    Json(document())
}

/// The `/docs` page: Swagger UI reading [`DOCUMENT_PATH`], served from assets embedded in the
/// binary (nothing is fetched from elsewhere, at build or at run time).
pub fn docs_page<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new(DOCS_PATH)
        .config(Config::new([DOCUMENT_PATH]).try_it_out_enabled(true))
        .into()
}

/// Operations whose body is read as raw bytes (no `Content-Type` check, no JSON shape).
const RAW_BODY: &[&str] = &["/api/webhooks/stripe"];

/// Operations whose body is optional and read without a `Content-Type` check.
const OPTIONAL_BODY: &[&str] = &[
    "/api/payments/{payment_id}/refund",
    "/api/invoices/{invoice_id}/pay",
];

/// Operations behind the per-address and per-account rate limits (`http::limits`).
const RATE_LIMITED: &[&str] = &[
    "/api/auth/login",
    "/api/auth/register",
    "/api/auth/password",
    "/api/auth/password-reset",
    "/api/auth/password-reset/confirm",
    "/api/payments/create-intent",
    "/api/payments/confirm",
];

fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

fn error_response(description: &str, example: Value) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorBody"},
            "example": example,
        }},
    })
}

/// The shared error answers, by name.
fn shared_responses() -> Value {
    let mut rate_limited = error_response(
        "`rate_limited` (too many requests from this address or for this account) or, on \
         login, `too_many_failed_logins` (growing delays after repeated failures)",
        error("rate_limited", "too many requests; retry in 12 s"),
    );
    rate_limited["headers"] = json!({"Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }});
    json!({
        "BadRequest": error_response(
            "`malformed_json`: the body is not JSON, or `invalid_query`/`http_error`: the \
             query string cannot be read",
            error("malformed_json", "the request body is not valid JSON: EOF while parsing an object")),
        "Unauthorized": error_response(
            "`unauthorized`: no valid bearer token (missing, malformed, expired, logged out, \
             issued before a password change, or of a deleted or unknown customer)",
            error("unauthorized", "a valid bearer token is required")),
        "NotFound": error_response(
            "`not_found`: no such object of the caller's (another customer's is not found \
             either), or the route is off (admin without `OPERATOR_TOKEN`, sandbox with Stripe)",
            error("not_found", "not found")),
        "RequestTimeout": error_response(
            "`request_timeout`: the body did not arrive within `REQUEST_BODY_TIMEOUT`",
            error("request_timeout", "the request body did not arrive in time")),
        "PayloadTooLarge": error_response(
            "`payload_too_large`: over the route's body limit (8 KiB under /api/auth, 1 MiB \
             for webhooks, 64 KiB elsewhere)",
            error("payload_too_large", "the request body is too large")),
        "UnsupportedMediaType": error_response(
            "`unsupported_media_type`: the body is not declared as JSON",
            error("unsupported_media_type", "the request body must be JSON (Content-Type: application/json)")),
        "ValidationError": error_response(
            "`validation_error`: a field breaks a rule (named in `field`)",
            json!({"error": {"code": "validation_error", "message": "amount: must be from 1 to 99999999", "field": "amount"}})),
        "TooManyRequests": rate_limited,
        "InternalError": error_response(
            "`internal_error`: logged on the server; the body says nothing more",
            error("internal_error", "an internal error occurred")),
    })
}

fn security_schemes() -> Value {
    json!({
        "customer_token": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "The `token` of `POST /api/auth/register` or `/login` (HS256, \
                `JWT_TTL` seconds). Refused once logged out, after a password change, or when \
                the customer is deleted.",
        },
        "operator_token": {
            "type": "http", "scheme": "bearer",
            "description": "`OPERATOR_TOKEN` (the admin API answers 404 while it is unset)",
        },
        "stripe_signature": {
            "type": "apiKey", "in": "header", "name": "Stripe-Signature",
            "description": "Stripe's `t=…,v1=…` HMAC-SHA256 of the body with a webhook secret \
                (`STRIPE_WEBHOOK_SECRET`), within `STRIPE_WEBHOOK_TOLERANCE` seconds",
        },
    })
}

/// Adds the security schemes and the shared error answers to the generated document.
fn complete(document: utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(document).unwrap_or_default();
    let components = document["components"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut components = Value::Object(components);
    components["securitySchemes"] = security_schemes();
    components["responses"] = shared_responses();
    document["components"] = components;
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                add_shared_errors(path, operation);
            }
        }
    }
    document
}

fn add_shared_errors(path: &str, operation: &mut Map<String, Value>) {
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|requirements| {
            requirements.iter().any(|requirement| {
                requirement.get("customer_token").is_some()
                    || requirement.get("operator_token").is_some()
            })
        });
    let parameters: Vec<Value> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = |place: &str| parameters.iter().any(|p| p["in"] == place);
    let has_body = operation.contains_key("requestBody");
    let admin_or_sandbox = path.starts_with("/api/admin") || path.starts_with("/sandbox");
    let mut shared = Vec::new();
    if secured {
        shared.push(("401", "Unauthorized"));
    }
    if has("path") || admin_or_sandbox {
        shared.push(("404", "NotFound"));
    }
    if has("query") {
        shared.push(("400", "BadRequest"));
        shared.push(("422", "ValidationError"));
    }
    if has("header") {
        shared.push(("422", "ValidationError"));
    }
    if has_body {
        shared.push(("408", "RequestTimeout"));
        shared.push(("413", "PayloadTooLarge"));
        if !RAW_BODY.contains(&path) {
            shared.push(("400", "BadRequest"));
            shared.push(("422", "ValidationError"));
            if !OPTIONAL_BODY.contains(&path) {
                shared.push(("415", "UnsupportedMediaType"));
            }
        }
    }
    if RATE_LIMITED.contains(&path) {
        shared.push(("429", "TooManyRequests"));
    }
    shared.push(("500", "InternalError"));
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(responses) = responses {
        for (status, name) in shared {
            responses
                .entry(status)
                .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
        }
        responses.sort_keys();
    }
}
