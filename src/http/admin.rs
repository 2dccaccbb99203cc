//! `/api/admin/*`: the operators' API, behind `OPERATOR_TOKEN` (compared in constant time; the
//! whole API answers 404 when no token is configured).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::{monthly_recurring_revenue, BillingStats};
use serde::Serialize;

use super::error::ApiError;
use super::extract::{IdempotencyKey, RequestId};
use super::invoices::{CreateBody, InvoiceBody};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use subtle::ConstantTimeEq;

/// The routes under `/api/admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{customer_id}/invoices", post(create_invoice))
        .route("/stats", get(stats))
}

/// A request that carries the operator token.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.operator_token else {
            return Err(AppError::NotFound.into());
        };
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
            Ok(Operator)
        } else {
            Err(AppError::Unauthenticated.into())
        }
    }
}

async fn create_invoice(
    _operator: Operator,
    State(state): State<AppState>,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(customer_id): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<InvoiceBody>), ApiError> {
    let row = state
        .invoices
        .create(
            &customer_id,
            body.into_request(idempotency_key),
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Serialize, Default)]
struct MonthRevenue {
    month: String,
    invoices: i64,
    payments: i64,
    refunds: i64,
    net: i64,
}

#[derive(Serialize)]
struct CurrencyFigures {
    currency: String,
    /// Monthly recurring revenue of active and past-due subscriptions, minor units.
    mrr: i64,
    revenue_by_month: Vec<MonthRevenue>,
}

#[derive(Serialize)]
struct MonthCount {
    month: String,
    count: i64,
}

#[derive(Serialize)]
struct StatsBody {
    currencies: Vec<CurrencyFigures>,
    subscriptions_by_status: BTreeMap<String, i64>,
    new_customers_by_month: Vec<MonthCount>,
    churned_subscriptions_by_month: Vec<MonthCount>,
}

async fn stats(
    _operator: Operator,
    State(state): State<AppState>,
) -> Result<Json<StatsBody>, ApiError> {
    let pool = &state.pool;
    let prices = BillingStats::recurring_prices(pool)
        .await
        .map_err(AppError::from)?;
    // currency → month → revenue
    let mut revenue: BTreeMap<String, BTreeMap<String, MonthRevenue>> = BTreeMap::new();
    let mut add = |currency: &str, month: &str, apply: &dyn Fn(&mut MonthRevenue)| {
        let entry = revenue
            .entry(currency.to_owned())
            .or_default()
            .entry(month.to_owned())
            .or_insert_with(|| MonthRevenue {
                month: month.to_owned(),
                ..MonthRevenue::default()
            });
        apply(entry);
    };
    for row in BillingStats::invoice_revenue_by_month(pool)
        .await
        .map_err(AppError::from)?
    {
        add(&row.currency, &row.month, &|m| m.invoices += row.amount);
    }
    for row in BillingStats::payments_received_by_month(pool)
        .await
        .map_err(AppError::from)?
    {
        add(&row.currency, &row.month, &|m| m.payments += row.amount);
    }
    for row in BillingStats::refunds_by_month(pool)
        .await
        .map_err(AppError::from)?
    {
        add(&row.currency, &row.month, &|m| m.refunds += row.amount);
    }
    for price in &prices {
        revenue.entry(price.currency.clone()).or_default();
    }
    let currencies = revenue
        .into_iter()
        .map(|(currency, months)| {
            let in_currency: Vec<_> = prices
                .iter()
                .filter(|price| price.currency == currency)
                .cloned()
                .collect();
            CurrencyFigures {
                mrr: monthly_recurring_revenue(&in_currency),
                revenue_by_month: months
                    .into_values()
                    .map(|mut month| {
                        month.net = month.invoices + month.payments - month.refunds;
                        month
                    })
                    .collect(),
                currency,
            }
        })
        .collect();
    let counts = |rows: Vec<projections::billing_stats::MonthlyCount>| {
        rows.into_iter()
            .map(|row| MonthCount {
                month: row.month,
                count: row.count,
            })
            .collect()
    };
    Ok(Json(StatsBody {
        currencies,
        subscriptions_by_status: BillingStats::subscriptions_by_status(pool)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .collect(),
        new_customers_by_month: counts(
            BillingStats::new_customers_by_month(pool)
                .await
                .map_err(AppError::from)?,
        ),
        churned_subscriptions_by_month: counts(
            BillingStats::churned_by_month(pool)
                .await
                .map_err(AppError::from)?,
        ),
    }))
}
