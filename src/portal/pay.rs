//! One-off payments: `/pay` (amount, currency, what for), then `/pay/{id}` — the card form, the
//! outcome in plain words, a spinner while it is processing, and a live update when the
//! outcome arrives later (by webhook). The sandbox's 3-D Secure page is in `challenge.rs`.

use aggregates::money::Currency;
use aggregates::payment::PaymentStatus;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use projections::PaymentRow;
use serde_json::json;

use super::card::{decline_reason, status_label, CardForm};
use super::format::{money, parse_amount};
use super::forms::{form_key, sent_key, FieldErrors, FormData};
use super::i18n::{fill, Catalog};
use super::page::{app_error_page, error_text, redirect, Frame, Nav, Visitor};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;
use crate::usecases::payments::NewPayment;

/// The currencies the payment form offers (the use case accepts more through the API).
pub const CURRENCIES: [&str; 6] = ["eur", "usd", "gbp", "chf", "cad", "jpy"];

#[derive(Template, WebTemplate)]
#[template(path = "pay.html")]
pub struct AmountPage {
    f: Frame,
    amount: String,
    /// Each offered currency, and whether it is the chosen one.
    currencies: Vec<(&'static str, bool)>,
    description: String,
    form_key: String,
    errors: FieldErrors,
    message: String,
}

/// `GET /pay`.
pub async fn amount_form(signed_in: SignedIn) -> Response {
    let visitor = signed_in.visitor;
    AmountPage {
        f: visitor.frame(visitor.t.pay_title, Nav::Pay),
        amount: String::new(),
        currencies: currency_options("eur"),
        description: String::new(),
        form_key: form_key(),
        errors: FieldErrors::default(),
        message: String::new(),
    }
    .into_response()
}

fn currency_options(chosen: &str) -> Vec<(&'static str, bool)> {
    CURRENCIES
        .iter()
        .map(|code| (*code, *code == chosen))
        .collect()
}

/// `text` with the accepted range of amounts (`{min}`, `{max}`) in `currency`.
pub fn amount_message(text: &str, currency: &str, visitor: &Visitor) -> String {
    fill(
        text,
        &[
            ("min", &money(1, currency, visitor.lang)),
            (
                "max",
                &money(aggregates::money::Amount::MAX, currency, visitor.lang),
            ),
        ],
    )
}

/// `POST /pay`: creates the payment, then shows its card form.
pub async fn create(State(state): State<AppState>, signed_in: SignedIn, body: Bytes) -> Response {
    let visitor = signed_in.visitor;
    let t = visitor.t;
    let form = FormData::parse(&body);
    let currency_code = form.get("currency");
    let mut errors = FieldErrors::default();
    let currency = Currency::parse("currency", &currency_code).ok();
    if currency.is_none() {
        errors.add("currency", t.err_currency);
    }
    let shown_currency = currency.map_or("eur", |c| c.code());
    let amount = currency.and_then(|c| parse_amount(&form.get("amount"), c.decimals()));
    if amount.is_none() {
        errors.add(
            "amount",
            amount_message(t.err_amount, shown_currency, &visitor),
        );
    }
    let mut message = String::new();
    if let (Some(amount), Some(currency), false) = (amount, currency, errors.any()) {
        let description = Some(form.get("description")).filter(|d| !d.is_empty());
        let request = NewPayment {
            amount,
            currency: currency.code().to_owned(),
            description,
            metadata: None,
        };
        let key = sent_key(&form);
        match state
            .payments
            .create_intent(&signed_in.customer_id, request, Some(&key), None)
            .await
        {
            Ok(created) => return redirect(&format!("/pay/{}", created.payment_id)),
            Err(AppError::Validation(invalid)) => match invalid.field.as_str() {
                "amount" => errors.add(
                    "amount",
                    amount_message(t.err_amount, shown_currency, &visitor),
                ),
                "currency" => errors.add("currency", t.err_currency),
                "description" => errors.add("description", t.err_description),
                _ => message = t.error_form.to_owned(),
            },
            Err(other) => message = error_text(t, &other),
        }
    }
    let page = AmountPage {
        f: visitor.frame(t.pay_title, Nav::Pay),
        amount: form.get("amount"),
        currencies: currency_options(shown_currency),
        description: form.get("description"),
        form_key: form_key(),
        errors,
        message,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// Where a payment stands, for the page and for its live updates.
pub struct Outcome {
    pub label: &'static str,
    pub message: String,
    /// Nothing more will happen by itself (the page stops listening).
    pub settled: bool,
    /// The customer can (again) give a card.
    pub payable: bool,
    pub succeeded: bool,
}

/// The outcome of `row` in plain words.
pub fn outcome(t: &Catalog, row: &PaymentRow, visitor: &Visitor) -> Outcome {
    let status = PaymentStatus::parse(&row.status);
    let amount = money(row.amount, &row.currency, visitor.lang);
    let label = status_label(t, &row.status);
    let failure = || {
        fill(
            t.payment_failed,
            &[("reason", &decline_reason(t, row.failure_code.as_deref()))],
        )
    };
    match status {
        Some(
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded,
        ) => Outcome {
            label,
            message: fill(t.payment_succeeded, &[("amount", &amount)]),
            settled: true,
            payable: false,
            succeeded: true,
        },
        Some(PaymentStatus::Failed) => Outcome {
            label,
            message: format!("{} {}", failure(), t.payment_try_again),
            settled: true,
            payable: true,
            succeeded: false,
        },
        Some(PaymentStatus::RequiresPaymentMethod) => Outcome {
            label,
            message: match row.failure_code {
                Some(_) => format!("{} {}", failure(), t.payment_try_again),
                None => String::new(),
            },
            settled: true,
            payable: true,
            succeeded: false,
        },
        Some(PaymentStatus::RequiresAction) => Outcome {
            label,
            message: t.payment_waiting_bank.to_owned(),
            settled: false,
            payable: false,
            succeeded: false,
        },
        Some(PaymentStatus::Canceled) => Outcome {
            label,
            message: label.to_owned(),
            settled: true,
            payable: false,
            succeeded: false,
        },
        Some(PaymentStatus::Processing) | None => Outcome {
            label,
            message: t.payment_processing.to_owned(),
            settled: false,
            payable: false,
            succeeded: false,
        },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "checkout.html")]
pub struct CheckoutPage {
    f: Frame,
    payment_id: String,
    description: String,
    outcome: Outcome,
    card: Option<CardForm>,
    /// Sandbox, waiting for 3-D Secure: the challenge page's address.
    challenge: String,
    /// Stripe mode, waiting for 3-D Secure: Stripe.js handles the next action.
    client_secret: String,
    publishable_key: String,
}

fn checkout_page(visitor: &Visitor, row: &PaymentRow, card_error: String) -> CheckoutPage {
    let t = visitor.t;
    let amount = money(row.amount, &row.currency, visitor.lang);
    let outcome = outcome(t, row, visitor);
    let waiting_bank = PaymentStatus::parse(&row.status) == Some(PaymentStatus::RequiresAction);
    let card = outcome.payable.then(|| {
        CardForm::new(
            visitor,
            format!("/pay/{}/confirm", row.payment_id),
            fill(t.pay_button, &[("amount", &amount)]),
            Vec::new(),
            card_error,
        )
        .confirming(&row.client_secret, format!("/pay/{}", row.payment_id))
    });
    CheckoutPage {
        f: visitor.card_frame(fill(t.checkout_title, &[("amount", &amount)]), Nav::Pay),
        payment_id: row.payment_id.clone(),
        description: row.description.clone().unwrap_or_default(),
        challenge: if waiting_bank && visitor.sandbox {
            format!("/pay/{}/challenge", row.payment_id)
        } else {
            String::new()
        },
        client_secret: if waiting_bank && !visitor.sandbox {
            row.client_secret.clone()
        } else {
            String::new()
        },
        publishable_key: visitor.stripe_key.clone().unwrap_or_default(),
        outcome,
        card,
    }
}

/// `GET /pay/{id}`: the card form, or where the payment stands.
pub async fn checkout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(payment_id): Path<String>,
) -> Response {
    let visitor = signed_in.visitor;
    match state
        .payments
        .get(&signed_in.customer_id, &payment_id)
        .await
    {
        Ok(row) => checkout_page(&visitor, &row, String::new()).into_response(),
        Err(error) => app_error_page(&visitor, error),
    }
}

/// `POST /pay/{id}/confirm` (`payment_method`): charges the card.
pub async fn confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(payment_id): Path<String>,
    body: Bytes,
) -> Response {
    let visitor = signed_in.visitor;
    let t = visitor.t;
    let customer = &signed_in.customer_id;
    let row = match state.payments.get(customer, &payment_id).await {
        Ok(row) => row,
        Err(error) => return app_error_page(&visitor, error),
    };
    let form = FormData::parse(&body);
    let confirmed = state
        .payments
        .confirm(
            customer,
            &row.payment_intent_id,
            &form.get("payment_method"),
            None,
        )
        .await;
    match confirmed {
        Ok(after) => {
            let waiting =
                PaymentStatus::parse(&after.status) == Some(PaymentStatus::RequiresAction);
            if waiting && visitor.sandbox {
                redirect(&format!("/pay/{payment_id}/challenge"))
            } else {
                redirect(&format!("/pay/{payment_id}"))
            }
        }
        Err(error) => {
            let message = match &error {
                AppError::Validation(_) => t.err_payment_method.to_owned(),
                AppError::InvalidState(_) => return redirect(&format!("/pay/{payment_id}")),
                other => error_text(t, other),
            };
            let page = checkout_page(&visitor, &row, message);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    }
}

/// `GET /pay/{id}/status`: where the payment stands, as JSON for the page's live update.
pub async fn status(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(payment_id): Path<String>,
) -> Response {
    let Some(session) = visitor.session.as_ref() else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "signed_out"})),
        )
            .into_response();
    };
    match state.payments.get(&session.customer_id, &payment_id).await {
        Ok(row) => {
            let outcome = outcome(visitor.t, &row, &visitor);
            Json(json!({
                "status": row.status,
                "label": outcome.label,
                "message": outcome.message,
                "settled": outcome.settled,
                "succeeded": outcome.succeeded,
                "payable": outcome.payable,
            }))
            .into_response()
        }
        Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            let _ = error_text(visitor.t, &error);
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
