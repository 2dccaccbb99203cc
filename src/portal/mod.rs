//! The customer portal: the server-rendered web pages the people who pay use, served by the
//! same binary at `/` (the JSON API stays under `/api`).
//!
//! What lives here: one file per page group (`auth` sign-up/in/out, `password_reset` the
//! forgotten password, `home`, `plans`, `pay` and `challenge`,
//! `dashboard` and `subscription`, `invoices` (with `credit_notes`, the notes on an invoice),
//! `account`, `public_invoice` for the signed links;
//! `console/`, the operators' console at `/admin`), the plumbing
//! each page shares (`page`: the request's language, session and flash message and the page
//! frame; `forms`: form bodies and field errors; `format`: amounts and dates for the
//! language), `session` (cookie ⇄ JWT, sign-in redirects), `csrf` (cross-site form posts
//! refused), `headers` (security headers on every page), `links` (signed invoice links),
//! `assets` (the CSS file and ES modules, embedded), `i18n/` (one catalog per language),
//! `templates/` (askama, checked at compile time) and `assets/`.
//!
//! What it may import: the use cases (`crate::usecases`) through `AppState`, `crate::auth`,
//! `crate::config`, `crate::error`, domain value types from `aggregates` for presentation,
//! and the invoice documents' formatting — never the store, SQL, or the provider's internals.

mod account;
mod account_billing;
pub mod assets;
mod auth;
mod card;
mod challenge;
mod console;
mod credit_notes;
mod csrf;
mod dashboard;
pub(crate) mod format;
mod forms;
pub mod headers;
mod home;
pub mod i18n;
mod invoice_new;
mod invoice_view;
mod invoices;
pub mod links;
mod page;
mod password_reset;
mod pay;
mod plans;
mod public_invoice;
mod sandbox_mail;
mod session;
mod subscription;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::http::AppState;

pub use page::not_found_response;

/// The portal's routes, with their middleware: security headers on every response, cross-site
/// form posts refused, and the session cookie renewed while it is used.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/language/{code}", get(page::switch_language))
        .route("/register", get(auth::register_form).post(auth::register))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", get(auth::logout_form).post(auth::logout))
        .route(
            "/password/forgot",
            get(password_reset::forgot_form).post(password_reset::forgot),
        )
        .route(
            "/password/reset",
            get(password_reset::reset_form).post(password_reset::reset),
        )
        .route("/plans", get(plans::catalog))
        .route(
            "/plans/{plan}/subscribe",
            get(plans::subscribe_form).post(plans::subscribe),
        )
        .route("/pay", get(pay::amount_form).post(pay::create))
        .route("/pay/{payment_id}", get(pay::checkout))
        .route("/pay/{payment_id}/confirm", post(pay::confirm))
        .route("/pay/{payment_id}/status", get(pay::status))
        .route("/pay/{payment_id}/challenge", get(challenge::show))
        .route("/dashboard", get(dashboard::show))
        .route("/dashboard/profile", post(dashboard::save_profile))
        .route(
            "/dashboard/subscriptions/{id}/cancel",
            post(subscription::cancel_subscription),
        )
        .route(
            "/dashboard/subscriptions/{id}/resume",
            post(subscription::resume_subscription),
        )
        .route(
            "/dashboard/subscriptions/{id}/change",
            get(subscription::change_plan_preview).post(subscription::change_plan),
        )
        .route("/dashboard/payments/{id}/refund", post(dashboard::refund))
        .route("/invoices", get(invoices::list))
        .route(
            "/invoices/new",
            get(invoice_new::new_form).post(invoice_new::create),
        )
        .route("/invoices/{id}", get(invoices::show))
        .route("/invoices/{id}/pay", post(invoices::pay))
        .route("/invoices/{id}/finalize", post(invoices::finalize))
        .route("/invoices/{id}/pdf", get(invoices::pdf))
        .route(
            "/invoices/{id}/credit-notes/{number}/pdf",
            get(credit_notes::pdf),
        )
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/mail", post(account::save_mail_preferences))
        .route("/account/billing", post(account_billing::save_billing))
        .route("/i/{id}", get(public_invoice::show))
        .route("/i/{id}/pdf", get(public_invoice::pdf))
        .route("/i/{id}/pay", post(public_invoice::pay))
        .route("/assets/{*path}", get(assets::serve))
        .merge(sandbox_mail::routes())
        .route_layer(from_fn(csrf::refuse_cross_site_posts))
        .layer(from_fn_with_state(state.clone(), session::renew))
        .layer(from_fn_with_state(state.clone(), headers::secure))
        // The operators' console has its own sign-in and layers (no customer session there).
        .merge(console::routes(state))
}
