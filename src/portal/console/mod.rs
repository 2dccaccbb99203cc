//! The operator console at `/admin`: server-rendered pages over the operators' use cases (the
//! same ones `/api/admin` answers with), signed in with `OPERATOR_TOKEN`. The whole console
//! answers 404 when no operator token is configured, like the API.
//!
//! What lives here: `access` (the sign-in form, the console's signed cookie, the extractor of
//! signed-in pages, sign-out), `projections` (the views' health, their rebuilds and a rebuild
//! job's progress), `inbox` (the webhook events by status, a retry),
//! `events` (the event log, filtered and paged, and a customer's timeline), `reconciliations`
//! (the runs recorded), `charts` (MRR and revenue by month, drawn as SVG by `svg`), and the frame the console's templates (`templates/console/`) are drawn in.
//! The console is for operators and speaks English only; it shares the portal's stylesheet,
//! security headers and cross-site post refusal.

mod access;
mod charts;
mod events;
mod inbox;
mod projections;
mod reconciliations;
mod svg;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::{csrf, headers};
use crate::http::AppState;

/// The console's routes, with the portal's middleware: security headers on every response and
/// cross-site form posts refused; none of them exists without an operator token.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(projections::status))
        .route("/admin/login", get(access::login_form).post(access::login))
        .route("/admin/logout", post(access::logout))
        .route(
            "/admin/projections/{name}/rebuild",
            post(projections::rebuild),
        )
        .route("/admin/jobs/{id}", get(projections::job_page))
        .route("/admin/jobs/{id}/status", get(projections::job_status))
        .route("/admin/inbox", get(inbox::list))
        .route("/admin/events", get(events::log))
        .route("/admin/reconciliations", get(reconciliations::list))
        .route("/admin/charts", get(charts::show))
        .route("/admin/customers/{id}", get(events::timeline))
        .route("/admin/inbox/{event_id}/retry", post(inbox::retry))
        .route_layer(from_fn(csrf::refuse_cross_site_posts))
        .route_layer(from_fn_with_state(state.clone(), closed_without_token))
        .layer(from_fn_with_state(state.clone(), headers::secure))
}

/// Middleware: without an operator token the console does not exist (404, like the API).
async fn closed_without_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.operator_token.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// A console menu entry.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The frame every console page is drawn in: title, menu (when signed in), scripts.
pub struct ConsoleFrame {
    pub title: String,
    pub signed_in: bool,
    pub menu: Vec<NavLink>,
    /// Reload the page every few seconds when scripts are off (a job still running).
    pub refresh_without_js: bool,
}

/// The console's pages, in menu order.
const MENU: [(&str, &str); 5] = [
    ("/admin", "Projections"),
    ("/admin/inbox", "Inbox"),
    ("/admin/events", "Event log"),
    ("/admin/reconciliations", "Reconciliations"),
    ("/admin/charts", "Charts"),
];

impl ConsoleFrame {
    /// The frame of a signed-in page titled `title`, under menu entry `current`.
    pub fn page(title: impl Into<String>, current: &str) -> Self {
        Self {
            title: title.into(),
            signed_in: true,
            menu: MENU
                .iter()
                .map(|(href, label)| NavLink {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            refresh_without_js: false,
        }
    }

    /// The frame of the sign-in page.
    pub fn signed_out(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            signed_in: false,
            menu: Vec::new(),
            refresh_without_js: false,
        }
    }
}
