//! The HTTP API: routing, middleware, and one module per resource. Handlers translate between
//! HTTP and the application services; business rules live in the domain.

pub mod admin;
pub mod auth;
pub mod billing;
pub mod client_config;
pub mod error;
pub mod extract;
pub mod health;
pub mod invoices;
pub mod json;
pub mod limits;
pub mod openapi;
pub mod password_reset;
pub mod payments;
pub mod plans;
pub mod profile_billing;
pub mod sandbox;
pub mod sandbox_cards;
pub mod security_headers;
pub mod server;
pub mod subscriptions;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::Router;
use projections::Projector;
use sqlx::SqlitePool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{JwtKeys, LoginThrottle, Sessions};
use crate::config::Secret;
use crate::inbox::Inbox;
use crate::provider::sandbox::SandboxProvider;
use crate::usecases::customers::CustomerService;
use crate::usecases::invoices::InvoiceService;
use crate::usecases::password_reset::PasswordResetService;
use crate::usecases::payments::PaymentService;
use crate::usecases::plans::PlanCatalog;
use crate::usecases::stats::StatsService;
use crate::usecases::subscriptions::SubscriptionService;
use error::error_response;
use invoice_documents::Seller;
use limits::RateLimiters;

/// The largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach: one shared allocation, so that each request's copy of the
/// state (axum clones it for every extractor that asks) is one reference count, not one per
/// service (about 2% of a history page's profile before).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
pub struct Services {
    pub pool: SqlitePool,
    /// The database the nodes share, on PostgreSQL: `/ready` checks that it answers.
    pub shared_log: Option<sqlx::PgPool>,
    pub projector: Arc<Projector>,
    pub customers: Arc<CustomerService>,
    /// The forgotten password.
    pub password_resets: Arc<PasswordResetService>,
    pub payments: Arc<PaymentService>,
    pub jwt: Arc<JwtKeys>,
    /// Issues bearer tokens and checks them against the customer's state.
    pub sessions: Arc<Sessions>,
    /// Per-address and per-account rate limits.
    pub limiters: Arc<RateLimiters>,
    /// Failed-login delays per account.
    pub login_throttle: Arc<LoginThrottle>,
    /// Present in sandbox mode, for the `/sandbox` routes.
    pub sandbox: Option<SandboxProvider>,
    pub stripe_publishable_key: Option<String>,
    pub webhooks: WebhookIntake,
    pub plans: Arc<PlanCatalog>,
    pub subscriptions: Arc<SubscriptionService>,
    pub invoices: Arc<InvoiceService>,
    pub stats: Arc<StatsService>,
    /// Rebuilds of a view started by operators, with their progress.
    pub rebuilds: Arc<crate::usecases::operators::rebuilds::RebuildJobs>,
    /// The admin API's bearer token; `None` disables the admin API.
    pub operator_token: Option<Secret>,
    /// Who issues the invoices.
    pub seller: Arc<Seller>,
    /// Signs and checks the portal's invoice links.
    pub invoice_links: Arc<crate::portal::links::InvoiceLinks>,
}

/// What the webhook endpoint needs.
#[derive(Clone)]
pub struct WebhookIntake {
    pub inbox: Inbox,
    /// Every secret a delivery may be signed with (several during a rotation).
    pub secrets: Arc<Vec<Secret>>,
    pub tolerance_seconds: i64,
    /// Wakes the inbox worker when an event is stored.
    pub wake: Arc<tokio::sync::Notify>,
}

/// Every route of the JSON API, each registered with its OpenAPI entry (`routes!` takes both
/// from the handler's `#[utoipa::path]`): a route cannot exist without its spec entry.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .nest("/api/config", client_config::routes())
        .nest("/api/plans", plans::routes())
        .routes(routes!(openapi::openapi_json))
        .nest("/api/auth", auth::routes())
        .nest("/api/payments", payments::routes())
        .nest("/api/subscriptions", subscriptions::routes())
        .nest("/api/invoices", invoices::routes())
        .nest("/api/credit-notes", invoices::credit_note_routes())
        .nest("/api/billing", billing::routes())
        .nest("/api/admin", admin::routes())
        .nest("/api/webhooks", webhooks::routes())
        .nest("/sandbox", sandbox::routes())
}

/// Every route of the API and the `/docs` page, without state or middleware: what `router`
/// serves besides the portal's pages, and what the route-coverage test inspects.
pub fn routes() -> Router<AppState> {
    let (api, _) = api_routes().split_for_parts();
    api.merge(openapi::docs_page())
}

/// The whole service (the API, `/docs` and the customer portal at `/`) with its middleware;
/// `body_timeout` bounds how long a client may take to send a request body.
pub fn router(state: AppState, cors_allowed_origins: &[String], body_timeout: Duration) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let limiters = state.limiters.clone();
    routes()
        .merge(crate::portal::routes(&state))
        .fallback(route_not_found)
        .with_state(state)
        .layer(from_fn_with_state(limiters, limits::limit_by_address))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(map_response(json_error_bodies))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(security_headers::cors(cors_allowed_origins)),
        )
        .layer(from_fn(security_headers::security_headers))
}

fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    // The path only: query strings may carry cursors and filters nobody needs in the log.
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "an internal error occurred",
        None,
    )
}

/// The API's JSON 404, or the portal's page for a browser asking for a page.
async fn route_not_found(State(state): State<AppState>, request: Request) -> Response {
    let sandbox = state.sandbox.is_some();
    crate::portal::not_found_response(request.headers(), request.uri().path(), sandbox)
        .unwrap_or_else(|| {
            error_response(StatusCode::NOT_FOUND, "not_found", "no such route", None)
        })
}

/// Errors produced outside our handlers (405 from the router, 413 from a body limit) come with
/// an empty or plain-text body; give them the API's error body (the portal's pages keep theirs).
async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let is_json_or_page = response.headers().get(CONTENT_TYPE).is_some_and(|value| {
        value.as_bytes().starts_with(b"application/json")
            || value.as_bytes().starts_with(b"text/html")
    });
    if !is_error || is_json_or_page {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not accept this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        _ => ("http_error", status.canonical_reason().unwrap_or("error")),
    };
    let (mut parts, _) = response.into_parts();
    let mut replacement = error_response(status, code, message, None);
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    replacement.headers_mut().extend(parts.headers);
    replacement.into_response()
}
