//! `/dashboard`: the profile (with its edit form), the subscription (cancel at period end,
//! resume, change plan with the price difference shown before confirming), recent payments
//! (with refunds) and the invoice statistics.

use aggregates::customer::FieldUpdate;
use aggregates::money::Currency;
use aggregates::payment::PaymentStatus;
use aggregates::subscription::SubscriptionStatus;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::card::status_label;
use super::format::{date, money, parse_amount};
use super::forms::{form_key, sent_key, FieldErrors, FormData};
use super::i18n::{fill, Catalog};
use super::page::{app_error_page, error_text, redirect_with, Flash, Frame, Nav, Visitor};
use super::plans::interval_text;
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;
use crate::usecases::customers::ProfileChange;

/// A subscription as the dashboard shows it.
pub struct SubscriptionView {
    pub id: String,
    pub plan_name: String,
    pub price: String,
    pub status: String,
    pub status_label: &'static str,
    /// "Free trial until …", "Renews on …", "Ends on …".
    pub period: String,
    pub cancel_help: String,
    pub can_cancel: bool,
    pub can_resume: bool,
    /// Other plans to move to: (plan id, "Switch to …").
    pub other_plans: Vec<(String, String)>,
}

fn subscription_view(
    state: &AppState,
    visitor: &Visitor,
    row: projections::SubscriptionRow,
) -> SubscriptionView {
    let t = visitor.t;
    let lang = visitor.lang;
    let status = SubscriptionStatus::parse(&row.status);
    let plan = row.plan.as_deref().and_then(|id| state.plans.find(id));
    let live = status.is_some_and(SubscriptionStatus::is_live);
    let period_end = row
        .current_period_end
        .as_deref()
        .map(|end| date(end, lang))
        .unwrap_or_default();
    let period = match status {
        Some(SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired) => row
            .ended_at
            .as_deref()
            .map(|end| fill(t.ended_on, &[("date", &date(end, lang))]))
            .unwrap_or_default(),
        _ if row.cancel_at_period_end => fill(t.ends_on, &[("date", &period_end)]),
        Some(SubscriptionStatus::Trialing) => row
            .trial_end
            .as_deref()
            .map(|end| fill(t.trial_until, &[("date", &date(end, lang))]))
            .unwrap_or_default(),
        _ if !period_end.is_empty() => fill(t.renews_on, &[("date", &period_end)]),
        _ => String::new(),
    };
    let price = match (row.amount, row.currency.as_deref()) {
        (Some(amount), Some(currency)) => {
            let interval = plan.map_or(t.interval_month, |plan| interval_text(t, plan.interval));
            format!("{} {interval}", money(amount, currency, lang))
        }
        _ => String::new(),
    };
    SubscriptionView {
        plan_name: plan.map_or_else(
            || row.plan.clone().unwrap_or_default(),
            |plan| plan.name_in(lang.code()).to_owned(),
        ),
        status_label: subscription_label(t, status),
        cancel_help: fill(t.cancel_at_period_end_help, &[("date", &period_end)]),
        can_cancel: live && !row.cancel_at_period_end,
        can_resume: live && row.cancel_at_period_end,
        other_plans: if live {
            state
                .plans
                .plans()
                .iter()
                .filter(|other| Some(other.id.as_str()) != row.plan.as_deref())
                .map(|other| {
                    (
                        other.id.clone(),
                        fill(t.change_plan_to, &[("plan", other.name_in(lang.code()))]),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        status: row.status,
        id: row.subscription_id,
        price,
        period,
    }
}

fn subscription_label(t: &Catalog, status: Option<SubscriptionStatus>) -> &'static str {
    match status {
        Some(SubscriptionStatus::Trialing) => t.sub_trialing,
        Some(SubscriptionStatus::Active) => t.sub_active,
        Some(SubscriptionStatus::PastDue) => t.sub_past_due,
        Some(SubscriptionStatus::Canceled) => t.sub_canceled,
        Some(SubscriptionStatus::Incomplete) => t.sub_incomplete,
        Some(SubscriptionStatus::IncompleteExpired) => t.sub_incomplete_expired,
        Some(SubscriptionStatus::Unpaid) => t.sub_unpaid,
        Some(SubscriptionStatus::Paused) => t.sub_paused,
        None => t.sub_pending,
    }
}

/// A payment as the dashboard lists it.
pub struct PaymentView {
    pub id: String,
    pub date: String,
    pub description: String,
    pub amount: String,
    pub status: String,
    pub status_label: &'static str,
    pub refunded: String,
    pub refundable: bool,
    pub refund_help: String,
    pub refund_error: String,
    pub refund_value: String,
}

/// One currency's invoice figures.
pub struct StatsView {
    pub currency: String,
    pub invoiced: String,
    pub paid: String,
    pub outstanding: String,
    pub overdue: String,
    pub counts: String,
}

/// The profile form's values and messages.
#[derive(Default)]
pub struct ProfileForm {
    pub name: String,
    pub phone: String,
    pub errors: FieldErrors,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    f: Frame,
    greeting: String,
    email: String,
    profile: ProfileForm,
    subscriptions: Vec<SubscriptionView>,
    payments: Vec<PaymentView>,
    stats: Vec<StatsView>,
    form_key: String,
}

/// The dashboard, with the profile form as given and a refund message on one payment.
async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    profile_form: Option<ProfileForm>,
    refund_error: Option<(String, String, String)>,
) -> Result<DashboardPage, AppError> {
    let visitor = &signed_in.visitor;
    let (t, lang) = (visitor.t, visitor.lang);
    let customer = &signed_in.customer_id;
    let profile = state.customers.profile(customer).await?;
    let subscriptions = state
        .subscriptions
        .list(customer)
        .await?
        .into_iter()
        .map(|row| subscription_view(state, visitor, row))
        .collect();
    let history = state
        .payments
        .history(customer, None, Some(10), None)
        .await?;
    let payments = history
        .data
        .into_iter()
        .map(|row| {
            let status = PaymentStatus::parse(&row.status);
            let remaining = row.amount - row.refunded_amount;
            let (refund_error, refund_value) = match &refund_error {
                Some((id, message, value)) if *id == row.payment_id => {
                    (message.clone(), value.clone())
                }
                _ => (String::new(), String::new()),
            };
            PaymentView {
                date: date(&row.created_at, lang),
                description: row.description.clone().unwrap_or_default(),
                amount: money(row.amount, &row.currency, lang),
                status_label: status_label(t, &row.status),
                refunded: if row.refunded_amount > 0 {
                    fill(
                        t.refunded_amount,
                        &[("amount", &money(row.refunded_amount, &row.currency, lang))],
                    )
                } else {
                    String::new()
                },
                refundable: status.is_some_and(|s| s.is_refundable()) && remaining > 0,
                refund_help: fill(
                    t.refund_help,
                    &[("amount", &money(remaining, &row.currency, lang))],
                ),
                refund_error,
                refund_value,
                status: row.status,
                id: row.payment_id,
            }
        })
        .collect();
    let stats = state
        .stats
        .customer_invoices(customer)
        .await?
        .into_iter()
        .map(|row| StatsView {
            invoiced: money(row.total_invoiced, &row.currency, lang),
            paid: money(row.total_paid, &row.currency, lang),
            outstanding: money(row.total_outstanding, &row.currency, lang),
            overdue: money(row.total_overdue, &row.currency, lang),
            counts: fill(
                t.invoice_counts,
                &[
                    ("open", &row.open.to_string()),
                    ("paid", &row.paid.to_string()),
                    ("draft", &row.draft.to_string()),
                ],
            ),
            currency: row.currency.to_uppercase(),
        })
        .collect();
    let profile_form = profile_form.unwrap_or_else(|| ProfileForm {
        name: profile.name.clone(),
        phone: profile.phone.clone().unwrap_or_default(),
        ..ProfileForm::default()
    });
    Ok(DashboardPage {
        f: visitor.frame(t.nav_dashboard, Nav::Dashboard),
        greeting: fill(t.dashboard_title, &[("name", &profile.name)]),
        email: profile.email,
        profile: profile_form,
        subscriptions,
        payments,
        stats,
        form_key: form_key(),
    })
}

/// `GET /dashboard`.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    match render(&state, &signed_in, None, None).await {
        Ok(page) => page.into_response(),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// `POST /dashboard/profile` (`name`, `phone`).
pub async fn save_profile(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Response {
    let t = signed_in.visitor.t;
    let form = FormData::parse(&body);
    let phone = form.get("phone");
    let change = ProfileChange {
        name: Some(form.get("name")),
        phone: if phone.is_empty() {
            FieldUpdate::Clear
        } else {
            FieldUpdate::Set(phone.clone())
        },
    };
    let error = match state
        .customers
        .update_profile(&signed_in.customer_id, change, None)
        .await
    {
        Ok(_) => return redirect_with("/dashboard", Flash::ProfileSaved),
        Err(error) => error,
    };
    let mut profile = ProfileForm {
        name: form.get("name"),
        phone,
        ..ProfileForm::default()
    };
    match &error {
        AppError::Validation(invalid) if invalid.field == "name" => {
            profile.errors.add("name", t.err_name)
        }
        AppError::Validation(invalid) if invalid.field == "phone" => {
            profile.errors.add("phone", t.err_phone)
        }
        other => profile.message = error_text(t, other),
    }
    match render(&state, &signed_in, Some(profile), None).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// `POST /dashboard/payments/{id}/refund` (`amount`, empty for all that remains).
pub async fn refund(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let t = signed_in.visitor.t;
    let customer = &signed_in.customer_id;
    let form = FormData::parse(&body);
    let typed = form.get("amount");
    let payment = match state.payments.get(customer, &id).await {
        Ok(payment) => payment,
        Err(error) => return app_error_page(&signed_in.visitor, error),
    };
    let decimals = Currency::parse("currency", &payment.currency).map_or(2, |c| c.decimals());
    let amount = if typed.is_empty() {
        Ok(None)
    } else {
        parse_amount(&typed, decimals).map(Some).ok_or(())
    };
    let outcome = match amount {
        Ok(amount) => state
            .payments
            .refund(customer, &id, amount, Some(&sent_key(&form)), None)
            .await
            .map_err(|error| match error {
                AppError::Validation(_) => t.err_refund_amount.to_owned(),
                other => error_text(t, &other),
            }),
        Err(()) => Err(t.err_refund_amount.to_owned()),
    };
    let message = match outcome {
        Ok(_) => return redirect_with("/dashboard", Flash::Refunded),
        Err(message) => message,
    };
    match render(&state, &signed_in, None, Some((id, message, typed))).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}
