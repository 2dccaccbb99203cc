//! The subscription's actions from `/dashboard`: cancel at the end of the period, resume, and
//! change plan — first a page showing the price difference, then the confirmed change. The
//! rules (what may be canceled, resumed or changed, the proration) are the use case's.

use aggregates::subscription::SubscriptionStatus;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::format::money;
use super::forms::FormData;
use super::i18n::fill;
use super::page::{app_error_page, redirect_with, Flash, Frame, Nav};
use super::plans::interval_text;
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;

/// `POST /dashboard/subscriptions/{id}/cancel`: cancels at the end of the period.
pub async fn cancel_subscription(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    match state
        .subscriptions
        .cancel(&signed_in.customer_id, &id, true, None)
        .await
    {
        Ok(_) => redirect_with("/dashboard", Flash::CanceledAtEnd),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// `POST /dashboard/subscriptions/{id}/resume`: undoes a cancellation at period end.
pub async fn resume_subscription(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    match state
        .subscriptions
        .resume(&signed_in.customer_id, &id, None)
        .await
    {
        Ok(_) => redirect_with("/dashboard", Flash::Resumed),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

#[derive(Deserialize)]
pub struct PlanQuery {
    plan: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_plan.html")]
pub struct ChangePlanPage {
    f: Frame,
    subscription_id: String,
    plan_id: String,
    from: String,
    to: String,
    difference: String,
    notes: Vec<&'static str>,
}

/// `GET /dashboard/subscriptions/{id}/change?plan=…`: the change and its price difference,
/// to confirm.
pub async fn change_plan_preview(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<PlanQuery>,
) -> Response {
    let visitor = &signed_in.visitor;
    let (t, lang) = (visitor.t, visitor.lang);
    let row = match state.subscriptions.owned(&signed_in.customer_id, &id).await {
        Ok(row) => row,
        Err(error) => return app_error_page(visitor, error),
    };
    let current = row.plan.as_deref().and_then(|plan| state.plans.find(plan));
    let target = query
        .plan
        .as_deref()
        .and_then(|plan| state.plans.find(plan));
    let (Some(current), Some(target)) = (current, target) else {
        return app_error_page(visitor, AppError::NotFound);
    };
    let describe = |text: &str, plan: &crate::usecases::plans::Plan| {
        fill(
            text,
            &[
                ("plan", plan.name_in(lang.code())),
                ("price", &money(plan.amount, &plan.currency, lang)),
                ("interval", interval_text(t, plan.interval)),
            ],
        )
    };
    let same_terms = current.interval == target.interval && current.currency == target.currency;
    let difference = if !same_terms {
        String::new()
    } else {
        let delta = target.amount - current.amount;
        let amount = money(delta.abs(), &target.currency, lang);
        let interval = interval_text(t, target.interval);
        match delta.signum() {
            1 => fill(
                t.change_more,
                &[("amount", &amount), ("interval", interval)],
            ),
            -1 => fill(
                t.change_less,
                &[("amount", &amount), ("interval", interval)],
            ),
            _ => t.change_same.to_owned(),
        }
    };
    let mut notes = Vec::new();
    if SubscriptionStatus::parse(&row.status) == Some(SubscriptionStatus::Trialing) {
        notes.push(t.change_trial_note);
    } else if same_terms {
        notes.push(t.change_proration_note);
    }
    if current.interval != target.interval {
        notes.push(t.change_interval_note);
    }
    ChangePlanPage {
        f: visitor.frame(t.change_title, Nav::Dashboard),
        subscription_id: row.subscription_id.clone(),
        plan_id: target.id.clone(),
        from: describe(t.change_from, current),
        to: describe(t.change_to, target),
        difference,
        notes,
    }
    .into_response()
}

/// `POST /dashboard/subscriptions/{id}/change` (`plan`).
pub async fn change_plan(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    match state
        .subscriptions
        .change_plan(&signed_in.customer_id, &id, &form.get("plan"), None)
        .await
    {
        Ok(_) => redirect_with("/dashboard", Flash::PlanChanged),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}
