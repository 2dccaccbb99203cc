//! `GET /pay/{id}/challenge` (sandbox mode only): the 3-D Secure page standing in for the
//! customer's bank, with "Complete" and "Fail"; its answer goes to the sandbox.

use aggregates::payment::PaymentStatus;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::format::money;
use super::i18n::fill;
use super::page::{app_error_page, redirect, Frame, Nav};
use super::session::SignedIn;
use crate::http::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "challenge.html")]
pub struct ChallengePage {
    f: Frame,
    text: String,
    authenticate_url: String,
    return_url: String,
}

/// `GET /pay/{id}/challenge` (sandbox): the bank's 3-D Secure page, with "Complete" and
/// "Fail". Its answer goes to the sandbox, as a bank's goes to Stripe.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(payment_id): Path<String>,
) -> Response {
    let visitor = signed_in.visitor;
    let t = visitor.t;
    if !visitor.sandbox {
        return redirect(&format!("/pay/{payment_id}"));
    }
    let row = match state
        .payments
        .get(&signed_in.customer_id, &payment_id)
        .await
    {
        Ok(row) => row,
        Err(error) => return app_error_page(&visitor, error),
    };
    if PaymentStatus::parse(&row.status) != Some(PaymentStatus::RequiresAction) {
        return redirect(&format!("/pay/{payment_id}"));
    }
    let amount = money(row.amount, &row.currency, visitor.lang);
    ChallengePage {
        f: visitor.frame(t.challenge_title, Nav::Pay),
        text: fill(
            t.challenge_text,
            &[("amount", &amount), ("seller", &state.seller.name)],
        ),
        authenticate_url: format!(
            "/sandbox/payment_intents/{}/authenticate",
            row.payment_intent_id
        ),
        return_url: format!("/pay/{payment_id}"),
    }
    .into_response()
}
