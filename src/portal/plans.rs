//! `/plans`: the catalog, and subscribing to a plan with a card (`/plans/{plan}/subscribe`).
//! The card becomes a payment-method id in the browser (Stripe Elements, or the sandbox's own
//! card form); only that id reaches billstream.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::card::CardForm;
use super::format::money;
use super::forms::{form_key, sent_key, FormData};
use super::i18n::{fill, Catalog, Lang};
use super::page::{app_error_page, error_text, redirect_with, Flash, Frame, Nav, Visitor};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;
use crate::usecases::plans::{Interval, Plan};
use crate::usecases::subscriptions::SubscribeRequest;

/// A plan as the pages show it.
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub price: String,
    pub interval: &'static str,
    pub trial: String,
    pub features: Vec<String>,
    pub subscribe_label: String,
    /// The visitor holds a live subscription to it.
    pub current: bool,
}

impl PlanView {
    fn of(plan: &Plan, lang: Lang, current: bool) -> Self {
        let t = lang.catalog();
        let name = plan.name_in(lang.code());
        Self {
            id: plan.id.clone(),
            name: name.to_owned(),
            price: money(plan.amount, &plan.currency, lang),
            interval: interval_text(t, plan.interval),
            trial: if plan.trial_days > 0 {
                fill(t.trial_days, &[("days", &plan.trial_days.to_string())])
            } else {
                t.no_trial.to_owned()
            },
            features: plan.features_in(lang.code()).to_vec(),
            subscribe_label: fill(t.subscribe_button, &[("plan", name)]),
            current,
        }
    }
}

/// "per month" / "per year".
pub fn interval_text(t: &Catalog, interval: Interval) -> &'static str {
    match interval {
        Interval::Month => t.interval_month,
        Interval::Year => t.interval_year,
    }
}

/// The plans, marking those the visitor holds.
pub async fn plan_views(state: &AppState, visitor: &Visitor) -> Vec<PlanView> {
    let held = match &visitor.session {
        Some(session) => state
            .subscriptions
            .list(&session.customer_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|row| !aggregates::subscription::is_terminal_status(&row.status))
            .filter_map(|row| row.plan)
            .collect(),
        None => Vec::new(),
    };
    state
        .plans
        .plans()
        .iter()
        .map(|plan| PlanView::of(plan, visitor.lang, held.contains(&plan.id)))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "plans.html")]
pub struct PlansPage {
    f: Frame,
    plans: Vec<PlanView>,
}

/// `GET /plans`.
pub async fn catalog(State(state): State<AppState>, visitor: Visitor) -> Response {
    let plans = plan_views(&state, &visitor).await;
    PlansPage {
        f: visitor.frame(visitor.t.plans_title, Nav::Plans),
        plans,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "subscribe.html")]
pub struct SubscribePage {
    f: Frame,
    plan: PlanView,
    summary: String,
    card: CardForm,
}

fn subscribe_page(visitor: &Visitor, plan: &Plan, key: String, error: String) -> SubscribePage {
    let t = visitor.t;
    let view = PlanView::of(plan, visitor.lang, false);
    let summary = if plan.trial_days > 0 {
        fill(
            t.subscribe_summary_trial,
            &[
                ("price", &view.price),
                ("interval", view.interval),
                ("days", &plan.trial_days.to_string()),
            ],
        )
    } else {
        fill(
            t.subscribe_summary_now,
            &[("price", &view.price), ("interval", view.interval)],
        )
    };
    let title = fill(t.subscribe_title, &[("plan", &view.name)]);
    SubscribePage {
        f: visitor.card_frame(title, Nav::Plans),
        card: CardForm::new(
            visitor,
            format!("/plans/{}/subscribe", plan.id),
            t.subscribe_confirm.to_owned(),
            vec![("form_key".to_owned(), key)],
            error,
        ),
        plan: view,
        summary,
    }
}

/// `GET /plans/{plan}/subscribe`.
pub async fn subscribe_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(plan_id): Path<String>,
) -> Response {
    let visitor = signed_in.visitor;
    let Some(plan) = state.plans.find(&plan_id) else {
        return app_error_page(&visitor, AppError::NotFound);
    };
    subscribe_page(&visitor, plan, form_key(), String::new()).into_response()
}

/// `POST /plans/{plan}/subscribe` (`payment_method`: the id the card form obtained).
pub async fn subscribe(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(plan_id): Path<String>,
    body: Bytes,
) -> Response {
    let visitor = signed_in.visitor;
    let t = visitor.t;
    let Some(plan) = state.plans.find(&plan_id) else {
        return app_error_page(&visitor, AppError::NotFound);
    };
    let form = FormData::parse(&body);
    let key = sent_key(&form);
    let request = SubscribeRequest {
        plan: plan.id.clone(),
        payment_method: Some(form.get("payment_method")),
        trial_days: None,
        idempotency_key: Some(key.clone()),
    };
    match state
        .subscriptions
        .subscribe(&signed_in.customer_id, request, None)
        .await
    {
        Ok(_) => redirect_with("/dashboard", Flash::Subscribed),
        Err(error) => {
            let message = match &error {
                AppError::Validation(invalid) if invalid.field == "payment_method" => {
                    t.err_payment_method.to_owned()
                }
                other => error_text(t, other),
            };
            // A refused attempt is done with its key: the next attempt is a new request.
            let page = subscribe_page(&visitor, plan, form_key(), message);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    }
}
